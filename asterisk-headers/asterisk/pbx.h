#ifndef ARS_ASTERISK_PBX_H
#define ARS_ASTERISK_PBX_H

struct ast_channel;
struct ast_module;
struct ast_app;

struct ast_app *pbx_findapp(const char *app);

int pbx_builtin_setvar_helper(struct ast_channel *chan, const char *name, const char *value);

#endif
