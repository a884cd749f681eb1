#ifndef ARS_ASTERISK_LOCK_H
#define ARS_ASTERISK_LOCK_H

#include <pthread.h>

struct ast_lock_track;

/* Asterisk's mutex: the same size whether or not Asterisk was built to
 * track locks (only the two members' names change). */
struct ast_mutex_info {
	pthread_mutex_t mutex;
	struct ast_lock_track *_track;
	unsigned int _flags;
};

typedef struct ast_mutex_info ast_mutex_t;
typedef pthread_cond_t ast_cond_t;

#endif
