/* msg.h -- the messages between rank 0 (the scheduler) and the workers.
 *
 * All on the job's communicator, small (8 and 24 bytes), eager.  Two tags:
 *
 *   MSG_TAG_REPORT  worker -> rank 0, one MsgReport
 *     When: once when the worker starts (row = -1: nothing finished yet),
 *     then after every task it ran, finished or abandoned.  The report
 *     both returns a result's status and asks for the next task; rank 0
 *     replies to every report with exactly one MSG_CMD_ASSIGN.
 *     Fields: row just run (-1 for the first report), its TaskStatus
 *     (TASK_PENDING if abandoned), its wall seconds (run and write), and
 *     the SchedLevel this worker's own signals have reached (a signal that
 *     reaches only a worker gets to rank 0 this way).
 *
 *   MSG_TAG_CMD     rank 0 -> worker, one MsgCmd
 *     MSG_CMD_ASSIGN: the reply to a report.  row = the next row to run,
 *       or -1 = quit (no task left, or a drain/stop): the worker's last
 *       message, it sends nothing after it.
 *     MSG_CMD_ABANDON: sent once per run, when rank 0 reaches a stop, to
 *       every worker it believes busy; row = the row rank 0 assigned it.
 *       The worker sets its stop flag (task_run returns, the row stays
 *       pending) and reports as usual.  If the worker had already finished
 *       that row, the abandon reaches it while it waits for its assignment
 *       and it ignores it; the assignment that follows is a quit, since
 *       rank 0 hands out nothing after a stop.  A worker only receives
 *       MSG_CMD_ASSIGN in reply to a report, so a command that arrives
 *       while it runs a task is always an abandon of that task.
 *
 * One task costs one round trip (report, assignment).  Nobody blocks in
 * MPI_Recv or a rendezvous send: a rank waiting for a message posts an
 * MPI_Irecv and polls it with MPI_Test between msg_nap naps, so idle ranks
 * do not spin a core.  (Not MPI_Iprobe: with Open MPI 4.1 an
 * MPI_Iprobe(MPI_ANY_SOURCE) polled between naps sees a message hundreds
 * of microseconds to milliseconds late; a posted receive completes at the
 * next MPI_Test: 19 us against 800 us per round trip, measured.)  The naps
 * start at MSG_NAP_MIN_NS after a message and double while nothing
 * arrives, up to a cap the caller chooses (scheduler.c, worker.c).
 *
 * On the wire: MPI derived datatypes (MsgTypes), built once per sched_run
 * by msg_types_create and freed by msg_types_free, rather than the structs
 * as raw MPI_BYTEs.  Why: MsgReport has padding between signal_level and
 * wall_s; a derived datatype sends the fields only, never uninitialised
 * padding bytes, and MPI converts
 * the fields if ranks ever differ in representation.  The cost is one
 * create/commit and one free per run, nothing per message; msg.c pins the
 * layouts the datatypes describe with static asserts.
 */
#ifndef SWEEP_MSG_H
#define SWEEP_MSG_H

#include <mpi.h>
#include <stdint.h>

enum { MSG_TAG_REPORT = 101, MSG_TAG_CMD = 102 };

typedef enum { MSG_CMD_ASSIGN = 1, MSG_CMD_ABANDON = 2 } MsgCmdKind;

/* worker -> rank 0, MSG_TAG_REPORT.  Every field is listed in
 * msg_types_create (msg.c): a field added here must be added there. */
typedef struct MsgReport {
    int32_t row;            /* row just run, or -1 (the worker's first report) */
    int32_t status;         /* its TaskStatus (base/result.h); TASK_PENDING if abandoned; 0 if row = -1 */
    int32_t signal_level;   /* SchedLevel reached by this worker's signals */
    double wall_s;          /* seconds spent on the row (task_run and the write); 0 if row = -1 */
} MsgReport;

/* rank 0 -> worker, MSG_TAG_CMD (likewise listed in msg_types_create) */
typedef struct MsgCmd {
    int32_t kind;           /* MsgCmdKind */
    int32_t row;            /* ASSIGN: next row, -1 = quit; ABANDON: the row to abandon */
} MsgCmd;

/* The committed datatypes of one MsgReport and one MsgCmd (count 1). */
typedef struct MsgTypes {
    MPI_Datatype report, cmd;
} MsgTypes;

/* Build and commit the datatypes (local, not collective: every rank that
 * sends or receives builds its own).  Fatal on an MPI error. */
void msg_types_create(MsgTypes *t);

/* Free what msg_types_create built (local); t's handles become
 * MPI_DATATYPE_NULL.  No message may still be in flight with them. */
void msg_types_free(MsgTypes *t);

#define MSG_NAP_MIN_NS 2000L   /* first nap after a message: 2 us */

/* Sleep *ns nanoseconds, then double *ns up to max_ns (the adaptive wait
 * between two MPI_Test of a posted receive).  Reset *ns to MSG_NAP_MIN_NS
 * when a message arrives. */
void msg_nap(long *ns, long max_ns);

#endif
