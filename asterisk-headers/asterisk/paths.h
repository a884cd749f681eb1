#ifndef ARS_ASTERISK_PATHS_H
#define ARS_ASTERISK_PATHS_H

/* The folder Asterisk reads its configuration files from (astetcdir). */
extern const char *ast_config_AST_CONFIG_DIR;

#endif
