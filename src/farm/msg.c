/* msg.c -- the farm's message datatypes and the adaptive nap (msg.h). */
#include "farm/msg.h"

#include <stddef.h>
#include <time.h>

#include "io/check.h"

/* A struct datatype of n fields, resized to the struct's extent, committed. */
static MPI_Datatype struct_type(int n, const MPI_Aint *disp, const MPI_Datatype *types, size_t extent)
{
    int len[16];
    for (int i = 0; i < n; i++) len[i] = 1;
    MPI_Datatype raw, t;
    CHECK_MPI(MPI_Type_create_struct(n, len, disp, types, &raw));
    CHECK_MPI(MPI_Type_create_resized(raw, 0, (MPI_Aint)extent, &t));
    CHECK_MPI(MPI_Type_free(&raw));
    CHECK_MPI(MPI_Type_commit(&t));
    return t;
}

#define MSG_REPORT_DISP(ctype, mpitype, name, doc) offsetof(MsgReport, name),
#define MSG_CMD_DISP(ctype, mpitype, name, doc) offsetof(MsgCmd, name),
#define MSG_TYPE(ctype, mpitype, name, doc) mpitype,

void msg_types_create(MsgTypes *t)
{
    const MPI_Aint rdisp[] = {MSG_REPORT_FIELDS(MSG_REPORT_DISP)};
    const MPI_Datatype rtype[] = {MSG_REPORT_FIELDS(MSG_TYPE)};
    _Static_assert(sizeof rdisp / sizeof rdisp[0] <= 16, "struct_type takes at most 16 fields");
    t->report = struct_type((int)(sizeof rdisp / sizeof rdisp[0]), rdisp, rtype, sizeof(MsgReport));
    const MPI_Aint cdisp[] = {MSG_CMD_FIELDS(MSG_CMD_DISP)};
    const MPI_Datatype ctype[] = {MSG_CMD_FIELDS(MSG_TYPE)};
    t->cmd = struct_type((int)(sizeof cdisp / sizeof cdisp[0]), cdisp, ctype, sizeof(MsgCmd));
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
