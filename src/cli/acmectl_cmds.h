/* acmectl: the subcommands main dispatches to. */
#ifndef ACMECTL_CMDS_H
#define ACMECTL_CMDS_H

#include "acmectl_ctx.h"

/* Commands; each returns the process exit status. */
int acmectl_cmd_certonly(acmectl_t *ctl);
int acmectl_cmd_certificates(acmectl_t *ctl);
int acmectl_cmd_status(acmectl_t *ctl);
int acmectl_cmd_worker(acmectl_t *ctl);
int acmectl_cmd_renew(acmectl_t *ctl);
int acmectl_cmd_revoke(acmectl_t *ctl);
int acmectl_cmd_delete(acmectl_t *ctl);
int acmectl_cmd_update_account(acmectl_t *ctl);
int acmectl_cmd_import(acmectl_t *ctl);

#endif
