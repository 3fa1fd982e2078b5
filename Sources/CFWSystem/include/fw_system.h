#ifndef FWCTL_SYSTEM_H
#define FWCTL_SYSTEM_H

/* Linux calls Swift's Glibc module does not expose. */

/* Swaps two paths in one atomic step (renameat2 with RENAME_EXCHANGE). Returns 0, or -1 with errno set. */
int fw_rename_exchange(const char *from, const char *to);

/* Renames only if `to` does not exist (renameat2 with RENAME_NOREPLACE); fails with EEXIST otherwise. */
int fw_rename_noreplace(const char *from, const char *to);

#endif
