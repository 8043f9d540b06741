// HDF5 1.10 serial (Debian libhdf5-dev). HDF5 exposes its type, property and
// access constants as macros over library globals, which Swift cannot
// import, so these inline functions return them.
#include <hdf5.h>

static inline hid_t titrate_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t titrate_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t titrate_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t titrate_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t titrate_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t titrate_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t titrate_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t titrate_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t titrate_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t titrate_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t titrate_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t titrate_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t titrate_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
static inline hid_t titrate_H5T_C_S1(void) { return H5T_C_S1; }
static inline unsigned titrate_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned titrate_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned titrate_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline size_t titrate_H5T_VARIABLE(void) { return H5T_VARIABLE; }
static inline hid_t titrate_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline hid_t titrate_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline hid_t titrate_H5T_NATIVE_CHAR(void) { return H5T_NATIVE_CHAR; }
static inline unsigned titrate_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned titrate_H5F_OBJ_ALL_LOCAL(void) { return H5F_OBJ_ALL | H5F_OBJ_LOCAL; }
static inline hid_t titrate_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
