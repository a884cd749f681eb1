/*
 * Minimal declarations of the Asterisk interfaces this module uses.
 *
 * Written for this project from Asterisk's documented public interfaces; the
 * file names match Asterisk's own so that one #include serves both these
 * declarations and an installed Asterisk's headers (see build.rs).
 */
#ifndef ARS_ASTERISK_H
#define ARS_ASTERISK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#endif
