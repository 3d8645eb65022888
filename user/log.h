/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics on stderr, by level: warnings always, info with -v, debug with -vv (libbpf's own
 * messages go through the same levels). Errors are not logged here: they are returned as
 * negative errno and reported once, at the top, in one line.
 */
#ifndef CONCUR_LOG_H
#define CONCUR_LOG_H

enum log_level { LOG_WARN, LOG_INFO, LOG_DEBUG };

/* The highest level shown: LOG_WARN by default, +1 per -v. */
extern enum log_level log_max_level;

/* "concur: " then the message and a newline, when level is shown. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_warn(...)  log_msg(LOG_WARN, "warning: " __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
