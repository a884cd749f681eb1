#ifndef ARS_ASTERISK_ASTOBJ2_H
#define ARS_ASTERISK_ASTOBJ2_H

enum ao2_lock_req {
	AO2_LOCK_REQ_MUTEX,
	AO2_LOCK_REQ_RDLOCK,
	AO2_LOCK_REQ_WRLOCK,
};

int __ao2_ref(void *o, int delta, const char *tag, const char *file, int line, const char *func);
int __ao2_lock(void *a, enum ao2_lock_req lock_how, const char *file, const char *func, int line, const char *var);
int __ao2_unlock(void *a, const char *file, const char *func, int line, const char *var);

#endif
