/* h5attr.h -- HDF5 attributes as the result file stores them: scalar
 * variable-length UTF-8 strings, arrays of them, and int32 scalars.
 *
 * Used by the writer (h5out_create), the readers (h5out_open, status) and
 * `sweep merge`.  Every call is independent (no MPI); creating an
 * attribute in a file opened with the MPI-IO driver must still happen on
 * every rank with the same arguments (HDF5 metadata are collective).
 * Return 0 / -1 unless said otherwise; nothing is left open on failure.
 */
#ifndef SWEEP_H5ATTR_H
#define SWEEP_H5ATTR_H

#include <hdf5.h>

/* Create attribute `name` of obj: a string (value NULL writes ""), an
 * array of n strings, or an int32. */
int h5attr_write_str(hid_t obj, const char *name, const char *value);
int h5attr_write_strs(hid_t obj, const char *name, const char *const *values, int n);
int h5attr_write_int(hid_t obj, const char *name, int value);

/* Overwrite an existing attribute: a variable-length string, or an int. */
int h5attr_set_str(hid_t obj, const char *name, const char *value);
int h5attr_set_int(hid_t obj, const char *name, int value);

/* The scalar string attribute `name` (variable or fixed length) as a new
 * malloc'ed string the caller frees; NULL if absent or unreadable. */
char *h5attr_read_str(hid_t obj, const char *name);

/* The scalar integer attribute `name` into *v.  -1 if absent or unreadable. */
int h5attr_read_int(hid_t obj, const char *name, int *v);

/* Elements of attribute `name`; 0 when absent or unreadable. */
int h5attr_count(hid_t obj, const char *name);

/* The array of variable-length strings `name` as *n new strings in a new
 * array (*out); the caller releases them with h5attr_strs_free.  An absent
 * attribute gives *n = 0, *out = NULL and returns 0. */
int h5attr_read_strs(hid_t obj, const char *name, char ***out, int *n);
void h5attr_strs_free(char **v, int n);

#endif
