#ifndef FWCTL_CLIBSSH2_SHIM_H
#define FWCTL_CLIBSSH2_SHIM_H

#include <libssh2.h>
#include <libssh2_sftp.h>

/* libssh2 exposes much of its API as function-like macros, which Swift cannot
 * import. These wrappers give each one a real symbol with the same meaning. */

static inline LIBSSH2_CHANNEL *fw_channel_open_session(LIBSSH2_SESSION *s) {
    return libssh2_channel_open_session(s);
}
static inline int fw_channel_exec(LIBSSH2_CHANNEL *c, const char *command) {
    return libssh2_channel_exec(c, command);
}
static inline int fw_channel_subsystem(LIBSSH2_CHANNEL *c, const char *subsystem) {
    return libssh2_channel_subsystem(c, subsystem);
}
static inline ssize_t fw_channel_read(LIBSSH2_CHANNEL *c, char *buf, size_t len) {
    return libssh2_channel_read(c, buf, len);
}
static inline ssize_t fw_channel_read_stderr(LIBSSH2_CHANNEL *c, char *buf, size_t len) {
    return libssh2_channel_read_stderr(c, buf, len);
}
static inline ssize_t fw_channel_write(LIBSSH2_CHANNEL *c, const char *buf, size_t len) {
    return libssh2_channel_write(c, buf, len);
}
static inline int fw_channel_flush(LIBSSH2_CHANNEL *c) {
    return libssh2_channel_flush(c);
}
static inline int fw_session_disconnect(LIBSSH2_SESSION *s, const char *description) {
    return libssh2_session_disconnect(s, description);
}
static inline LIBSSH2_SFTP_HANDLE *fw_sftp_open(LIBSSH2_SFTP *sftp, const char *path,
                                                unsigned long flags, long mode) {
    return libssh2_sftp_open(sftp, path, flags, mode);
}
static inline int fw_sftp_close(LIBSSH2_SFTP_HANDLE *h) {
    return libssh2_sftp_close(h);
}
static inline int fw_sftp_fsetstat(LIBSSH2_SFTP_HANDLE *h, LIBSSH2_SFTP_ATTRIBUTES *attrs) {
    return libssh2_sftp_fsetstat(h, attrs);
}
static inline int fw_sftp_unlink(LIBSSH2_SFTP *sftp, const char *path) {
    return libssh2_sftp_unlink(sftp, path);
}
static inline int fw_sftp_rename(LIBSSH2_SFTP *sftp, const char *from, const char *to) {
    return libssh2_sftp_rename(sftp, from, to);
}
static inline int fw_sftp_mkdir(LIBSSH2_SFTP *sftp, const char *path, long mode) {
    return libssh2_sftp_mkdir(sftp, path, mode);
}
static inline int fw_sftp_stat(LIBSSH2_SFTP *sftp, const char *path, LIBSSH2_SFTP_ATTRIBUTES *attrs) {
    return libssh2_sftp_stat(sftp, path, attrs);
}
static inline LIBSSH2_CHANNEL *fw_scp_send(LIBSSH2_SESSION *s, const char *path, int mode,
                                           libssh2_int64_t size, time_t mtime, time_t atime) {
    return libssh2_scp_send64(s, path, mode, size, mtime, atime);
}

/* Not importable as a constant: a function-like expression in the header. */
static const unsigned int FW_CHANNEL_WINDOW_DEFAULT = 2 * 1024 * 1024;

#endif
