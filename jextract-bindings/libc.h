/*
 * Input header for jextract: the libc surface used by multiprocessing.internal.libc.
 * libc.options selects what is actually bound; regenerate.sh runs jextract.
 */
#define _GNU_SOURCE
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <poll.h>
#include <sys/wait.h>

/*
 * With _GNU_SOURCE, glibc declares the sockaddr parameters of bind, connect,
 * accept4, getsockname, ... as __SOCKADDR_ARG / __CONST_SOCKADDR_ARG,
 * transparent unions of pointers, which jextract would bind as unions passed
 * by value. glibc uses plain `struct sockaddr *` when __GNUC_PREREQ(2, 7) is
 * false, so hide it while <sys/socket.h> is read (it is first included here;
 * <netinet/in.h> below includes it again, which is then a no-op).
 */
#pragma push_macro("__GNUC_PREREQ")
#undef __GNUC_PREREQ
#define __GNUC_PREREQ(maj, min) 0
#include <sys/socket.h>
#pragma pop_macro("__GNUC_PREREQ")

#include <sys/un.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/pidfd.h>
#include <linux/futex.h>
#include <time.h>
