#ifndef FWCTL_SYSTEM_H
#define FWCTL_SYSTEM_H

/* Linux calls Swift's Glibc module does not expose. */

/* Swaps two paths in one atomic step (renameat2 with RENAME_EXCHANGE). Returns 0, or -1 with errno set. */
int fw_rename_exchange(const char *from, const char *to);

/* Renames only if `to` does not exist (renameat2 with RENAME_NOREPLACE); fails with EEXIST otherwise. */
int fw_rename_noreplace(const char *from, const char *to);

/* The inode flags of `path` (FS_IOC_GETFLAGS: immutable 0x10, append-only 0x20); -1 with errno set when the
   file system has none or the path cannot be opened. */
int fw_inode_flags(const char *path);

#endif
