/* The dyn binary's subcommands. Each lives in its own file src/cmd/<name>.c and returns the
 * process exit code: 0 ok, 1 invalid input, 2 usage or I/O error. */
#ifndef DYN_CMD_COMMANDS_H
#define DYN_CMD_COMMANDS_H

enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

int cmd_validate(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_topo(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_frontend(int argc, char **argv);
int cmd_mocker(int argc, char **argv);

#endif
