/* msg.c -- the farm's message datatypes and the adaptive nap (msg.h). */
#include "farm/msg.h"

#include <stddef.h>
#include <time.h>

#include "io/check.h"

/* msg_types_create lists the fields of these layouts (LP64: x86_64,
 * aarch64).  A field added, removed or resized changes them and stops the
 * build here until the datatype follows; only a new 4-byte field in
 * MsgReport's padding (before wall_s) would slip through, hence the note
 * in msg.h. */
_Static_assert(sizeof(MsgReport) == 24 && offsetof(MsgReport, wall_s) == 16,
               "MsgReport changed: update msg_types_create");
_Static_assert(sizeof(MsgCmd) == 8 && offsetof(MsgCmd, row) == 4, "MsgCmd changed: update msg_types_create");

/* A struct datatype of n fields, resized to the struct's extent, committed. */
static MPI_Datatype struct_type(int n, const MPI_Aint *disp, const MPI_Datatype *types, size_t extent)
{
    int len[8];
    for (int i = 0; i < n; i++) len[i] = 1;
    MPI_Datatype raw, t;
    CHECK_MPI(MPI_Type_create_struct(n, len, disp, types, &raw));
    CHECK_MPI(MPI_Type_create_resized(raw, 0, (MPI_Aint)extent, &t));
    CHECK_MPI(MPI_Type_free(&raw));
    CHECK_MPI(MPI_Type_commit(&t));
    return t;
}

void msg_types_create(MsgTypes *t)
{
    const MPI_Aint rdisp[4] = {offsetof(MsgReport, row), offsetof(MsgReport, status),
                               offsetof(MsgReport, signal_level), offsetof(MsgReport, wall_s)};
    const MPI_Datatype rtype[4] = {MPI_INT32_T, MPI_INT32_T, MPI_INT32_T, MPI_DOUBLE};
    t->report = struct_type(4, rdisp, rtype, sizeof(MsgReport));
    const MPI_Aint cdisp[2] = {offsetof(MsgCmd, kind), offsetof(MsgCmd, row)};
    const MPI_Datatype ctype[2] = {MPI_INT32_T, MPI_INT32_T};
    t->cmd = struct_type(2, cdisp, ctype, sizeof(MsgCmd));
}

void msg_types_free(MsgTypes *t)
{
    if (t->report != MPI_DATATYPE_NULL) CHECK_MPI(MPI_Type_free(&t->report));
    if (t->cmd != MPI_DATATYPE_NULL) CHECK_MPI(MPI_Type_free(&t->cmd));
}

void msg_nap(long *ns, long max_ns)
{
    struct timespec ts = {0, *ns};
    nanosleep(&ts, NULL);
    if (*ns < max_ns) *ns = *ns * 2 < max_ns ? *ns * 2 : max_ns;
}
