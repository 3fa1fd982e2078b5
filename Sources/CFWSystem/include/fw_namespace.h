#ifndef FWCTL_NAMESPACE_H
#define FWCTL_NAMESPACE_H

#include <spawn.h>

/* Namespaces and process start-up for the lab: calls Swift's Glibc module does not expose. */

/* Moves the calling thread into the network namespace bound at `path` (e.g. /run/netns/NAME): sockets it creates
   afterwards, and processes it spawns, live there. Returns 0, or -1 with errno set. */
int fw_enter_network_namespace(const char *path);

/* The posix_spawn flag that starts the child in a session of its own (POSIX_SPAWN_SETSID), so a daemon does not
   get the terminal's signals. */
short fw_spawn_setsid_flag(void);

/* Closes every descriptor from `lowest` up in the child (posix_spawn_file_actions_addclosefrom_np, glibc 2.34):
   a child must not inherit the pipes and sockets other threads of this process hold at that moment, or it keeps
   them open (a pipe's reader then never sees its end). Returns 0 or an errno value. */
int fw_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

/* pipe2(fds, O_CLOEXEC): both ends closed on exec, set atomically so a program another thread starts meanwhile
   does not inherit them. */
int fw_pipe_cloexec(int fds[2]);

#endif
