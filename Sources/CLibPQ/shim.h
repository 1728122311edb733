#ifndef VIGIL_CLIBPQ_SHIM_H
#define VIGIL_CLIBPQ_SHIM_H
// libpq from Debian's libpq-dev; pkg-config adds -I/usr/include/postgresql.
#include <libpq-fe.h>
#endif
