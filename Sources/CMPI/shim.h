// Open MPI 4.1 (Debian libopenmpi-dev). Open MPI defines its handles
// (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, ...) as macros over the addresses
// of library globals, which Swift cannot import, so these inline functions
// return them.
#include <mpi.h>

static inline MPI_Comm titrate_MPI_COMM_WORLD(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype titrate_MPI_FLOAT(void) { return MPI_FLOAT; }
static inline MPI_Datatype titrate_MPI_DOUBLE(void) { return MPI_DOUBLE; }
static inline MPI_Datatype titrate_MPI_BYTE(void) { return MPI_BYTE; }
static inline MPI_Datatype titrate_MPI_INT(void) { return MPI_INT; }
static inline MPI_Datatype titrate_MPI_INT64_T(void) { return MPI_INT64_T; }
static inline MPI_Op titrate_MPI_SUM(void) { return MPI_SUM; }
static inline MPI_Op titrate_MPI_MAX(void) { return MPI_MAX; }
static inline MPI_Op titrate_MPI_MIN(void) { return MPI_MIN; }
static inline void *titrate_MPI_IN_PLACE(void) { return MPI_IN_PLACE; }
static inline int titrate_MPI_SUCCESS(void) { return MPI_SUCCESS; }
static inline int titrate_MPI_MAX_ERROR_STRING(void) { return MPI_MAX_ERROR_STRING; }
static inline MPI_Errhandler titrate_MPI_ERRORS_RETURN(void) { return MPI_ERRORS_RETURN; }
