#ifndef ARS_ASTERISK_LOGGER_H
#define ARS_ASTERISK_LOGGER_H

#include "asterisk/options.h"

#define __LOG_DEBUG    0
#define __LOG_TRACE    1
#define __LOG_NOTICE   2
#define __LOG_WARNING  3
#define __LOG_ERROR    4
#define __LOG_VERBOSE  5
#define __LOG_DTMF     6

void ast_log(int level, const char *file, int line, const char *function, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void __ast_verbose(const char *file, int line, const char *func, int level, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Highest verbosity any console or log channel listens at. */
extern int ast_verb_sys_level;
#define VERBOSITY_ATLEAST(level) ((level) <= ast_verb_sys_level)

unsigned int ast_debug_get_by_module(const char *module);
#define DEBUG_ATLEAST(level) \
	(option_debug >= (level) \
		|| (ast_opt_dbg_module \
			&& ((int)ast_debug_get_by_module(AST_MODULE) >= (level) \
				|| (int)ast_debug_get_by_module(__FILE__) >= (level))))

#endif
