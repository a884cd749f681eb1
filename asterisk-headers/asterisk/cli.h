#ifndef ARS_ASTERISK_CLI_H
#define ARS_ASTERISK_CLI_H

struct ast_module;

#define AST_MAX_CMD_LEN 16

/* What a new-style CLI handler is asked to do. */
enum ast_cli_command {
	CLI_INIT = -2,      /* fill in command and usage */
	CLI_GENERATE = -3,  /* offer the n-th completion of word at pos */
	CLI_HANDLER = -4,   /* run the command */
};

#define RESULT_SUCCESS   0
#define RESULT_SHOWUSAGE 1
#define RESULT_FAILURE   2

struct ast_cli_args {
	const int fd;
	const int argc;
	const char * const *argv;
	const char *line;
	const char *word;
	const int pos;
	const int n;
};

struct ast_cli_entry {
	const char * const cmda[AST_MAX_CMD_LEN];  /* first entry NULL or "" for a new-style entry */
	const char * const summary;
	const char * usage;
	int inuse;
	struct ast_module *module;
	char *_full_cmd;
	int cmdlen;
	int args;
	char *command;
	char *(*handler)(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a);
	struct { struct ast_cli_entry *next; } list;
};

void ast_cli(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int __ast_cli_register_multiple(struct ast_cli_entry *e, int len, struct ast_module *mod);
int ast_cli_unregister_multiple(struct ast_cli_entry *e, int len);

#endif
