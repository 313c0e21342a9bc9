/* Shared by dyn up/down/ps/logs: this binary's path and which local graph a command means. */
#ifndef DYN_CMD_LOCALCMD_H
#define DYN_CMD_LOCALCMD_H

/* Absolute path of the running dyn binary (static buffer). */
const char *dyn_self_exe(void);

/* Resolves the state directories a command acts on: --state-dir DIR, a graph NAME, a graph FILE
 * (its metadata.name), or with none of them every graph under .dyn/. Returns a NULL-terminated
 * malloc'd list (free with dyn_strv_free), or NULL after printing why on stderr. */
char **dyn_local_targets(const char *state_dir, const char *name_or_file, const char *cmd);

#endif
