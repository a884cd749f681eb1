#ifndef ARS_ASTERISK_MANAGER_H
#define ARS_ASTERISK_MANAGER_H

struct ast_channel;

/* AMI event class for call events ("call" in manager.conf read=). */
#define EVENT_FLAG_CALL (1 << 1)

int __ast_manager_event_multichan(int category, const char *event, int chancount,
	struct ast_channel **chans, const char *file, int line, const char *func,
	const char *contents, ...) __attribute__((format(printf, 8, 9)));

#endif
