#ifndef ARS_ASTERISK_MODULE_H
#define ARS_ASTERISK_MODULE_H

/*
 * The license key the loader requires, byte for byte, in ast_module_info.key.
 * It is an interface constant of the loader; carrying it makes the module GPL.
 */
#define ASTERISK_GPL_KEY \
"This paragraph is copyright (c) 2006 by Digium, Inc. \
In order for your module to load, it must return this \
key via a function called \"key\".  Any code which \
includes this paragraph must be licensed under the GNU \
General Public License version 2 or later (at your \
option).  In addition to Digium's general reservations \
of rights, Digium expressly reserves the right to \
allow other parties to license this paragraph under \
different terms. Any use of Digium, Inc. trademarks or \
logos (including \"Asterisk\" or \"Digium\") without \
express written permission of Digium, Inc. is prohibited.\n"

struct ast_module;
struct ast_channel;

enum ast_module_load_result {
	AST_MODULE_LOAD_SUCCESS = 0,
	AST_MODULE_LOAD_DECLINE = 1,
	AST_MODULE_LOAD_SKIP = 2,
	AST_MODULE_LOAD_PRIORITY = 3,
	AST_MODULE_LOAD_FAILURE = -1,
};

enum ast_module_support_level {
	AST_MODULE_SUPPORT_UNKNOWN,
	AST_MODULE_SUPPORT_CORE,
	AST_MODULE_SUPPORT_EXTENDED,
	AST_MODULE_SUPPORT_DEPRECATED,
};

enum ast_module_flags {
	AST_MODFLAG_DEFAULT = 0,
	AST_MODFLAG_GLOBAL_SYMBOLS = (1 << 0),
	AST_MODFLAG_LOAD_ORDER = (1 << 1),
};

/* Load order, used when AST_MODFLAG_LOAD_ORDER is set (lower loads first). */
enum ast_module_load_priority {
	AST_MODPRI_CHANNEL_DRIVER = 70,
	AST_MODPRI_DEFAULT = 128,
};

struct ast_module_info {
	struct ast_module *self;             /* filled in by the loader */
	enum ast_module_load_result (*load)(void);
	int (*reload)(void);
	int (*unload)(void);
	const char *name;
	const char *description;
	const char *key;
	unsigned int flags;
	const char buildopt_sum[33];         /* empty: no build-options check */
	unsigned char load_pri;
	const char *requires;
	const char *optional_modules;
	const char *enhances;
	void *reserved1;
	void *reserved2;
	void *reserved3;
	void *reserved4;
	enum ast_module_support_level support_level;
};

void ast_module_register(const struct ast_module_info *);
void ast_module_unregister(const struct ast_module_info *);

struct ast_module *__ast_module_ref(struct ast_module *mod, const char *file, int line, const char *func);
void __ast_module_unref(struct ast_module *mod, const char *file, int line, const char *func);
/* The module's name as the loader knows it (the file name without .so). */
const char *ast_module_name(const struct ast_module *mod);

/* Dialplan applications; mod is the registering module (its ast_module_info.self). */
int ast_register_application2(const char *app, int (*execute)(struct ast_channel *, const char *),
	const char *synopsis, const char *description, void *mod);
int ast_unregister_application(const char *app);

#endif
