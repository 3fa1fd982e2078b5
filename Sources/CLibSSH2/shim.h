#ifndef FWCTL_CLIBSSH2_SHIM_H
#define FWCTL_CLIBSSH2_SHIM_H

/* libssh2 exposes much of its API as function-like macros, which Swift cannot import. FWSSH calls the real
 * functions behind them instead (libssh2_channel_open_ex, libssh2_channel_process_startup,
 * libssh2_channel_read_ex, libssh2_channel_write_ex, libssh2_sftp_open_ex, ...), so no wrappers are needed here. */
#include <libssh2.h>
#include <libssh2_sftp.h>

#endif
