#ifndef ARS_ASTERISK_CONFIG_H
#define ARS_ASTERISK_CONFIG_H

#include "asterisk/utils.h"

struct ast_config;
struct ast_category;
struct ast_comment;

/* One "name = value" line of a configuration file, as the parser keeps it. */
struct ast_variable {
	const char *name;
	const char *value;
	struct ast_variable *next;
	const char *file;
	int lineno;
	int object;
	int blanklines;
	int inherited;
	struct ast_comment *precomments;
	struct ast_comment *sameline;
	struct ast_comment *trailing;
	char stuff[0];
};

enum {
	CONFIG_FLAG_WITHCOMMENTS  = (1 << 0),
	CONFIG_FLAG_FILEUNCHANGED = (1 << 1),
	CONFIG_FLAG_NOCACHE       = (1 << 2),
};

#define CONFIG_STATUS_FILEMISSING   (void *)0
#define CONFIG_STATUS_FILEUNCHANGED (void *)-1
#define CONFIG_STATUS_FILEINVALID   (void *)-2

struct ast_config *ast_config_load2(const char *filename, const char *who_asked, struct ast_flags flags);
void ast_config_destroy(struct ast_config *cfg);
struct ast_category *ast_category_browse_filtered(struct ast_config *config,
	const char *category_name, struct ast_category *prev, const char *filter);
const char *ast_category_get_name(const struct ast_category *category);
struct ast_variable *ast_category_first(struct ast_category *cat);

#endif
