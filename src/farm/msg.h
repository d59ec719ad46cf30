/* msg.h -- the messages between rank 0 (the scheduler) and the workers.
 *
 * All on the job's communicator, small (8 and 24 bytes), eager.  Two tags:
 *
 *   MSG_TAG_REPORT  worker -> rank 0, one MsgReport of one of two kinds
 *     MSG_REPORT_ROW: once when the worker starts (row = -1: nothing
 *       finished yet), then after every task it ran, finished or stopped.
 *       It both returns a result's status and asks for the next task;
 *       rank 0 replies to every ROW report with exactly one
 *       MSG_CMD_ASSIGN.  Fields: row just run (-1 for the first report),
 *       its TaskStatus (TASK_PENDING if stopped), the step of the
 *       checkpoint it left (ckpt_step, -1 if none), its wall seconds (run
 *       and write).
 *     MSG_REPORT_STEPS: while a task trains, at most every few seconds
 *       (worker.c), the optimiser steps it has taken in this run
 *       (steps_done) and its checkpoint's step; no reply.  Rank 0 turns
 *       them into the work fraction, rate and ETA of the progress line.
 *     Both carry the SchedLevel this worker's own signals have reached (a
 *     signal that reaches only a worker gets to rank 0 this way).  One tag
 *     for both keeps them in order: a worker's STEPS reports all arrive
 *     before its next ROW report (MPI's non-overtaking rule), so none is
 *     left unreceived when rank 0 stops listening.
 *
 *   MSG_TAG_CMD     rank 0 -> worker, one MsgCmd
 *     MSG_CMD_ASSIGN: the reply to a report.  row = the next row to run,
 *       or -1 = quit (no task left, or a drain/stop): the worker's last
 *       message, it sends nothing after it.
 *     MSG_CMD_ABANDON: sent once per run, when rank 0 reaches a stop, to
 *       every worker it believes busy; row = the row rank 0 assigned it.
 *       The worker sets its stop flag (task_run checkpoints and returns,
 *       the row stays pending) and reports as usual.
 *     MSG_CMD_DRAIN: sent once per run, when rank 0 reaches a drain (a
 *       signal, the time limit), to every worker it believes busy; row as
 *       for an abandon.  The worker finishes its task if it expects to
 *       within train.stop_grace, else checkpoints it and stops
 *       (docs/running.md, "Stopping cleanly").
 *     If the worker had already finished that row, an abandon or drain
 *     reaches it while it waits for its assignment and it ignores it; the
 *     assignment that follows is a quit, since rank 0 hands out nothing
 *     after a drain or stop.  A worker only receives MSG_CMD_ASSIGN in
 *     reply to a ROW report, so a command that arrives while it runs a
 *     task is always an abandon or a drain of that task.
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
 * by msg_types_create from the field lists below and freed by
 * msg_types_free, rather than the structs as raw MPI_BYTEs.  Why: a
 * struct may have padding; a derived datatype sends the fields only,
 * never uninitialised padding bytes, and MPI converts the fields if ranks
 * ever differ in representation.  The cost is one create/commit and one
 * free per run, nothing per message.
 */
#ifndef SWEEP_MSG_H
#define SWEEP_MSG_H

#include <mpi.h>
#include <stdint.h>

enum { MSG_TAG_REPORT = 101, MSG_TAG_CMD = 102 };

typedef enum { MSG_CMD_ASSIGN = 1, MSG_CMD_ABANDON = 2, MSG_CMD_DRAIN = 3 } MsgCmdKind;
typedef enum { MSG_REPORT_ROW = 1, MSG_REPORT_STEPS = 2 } MsgReportKind;

/* The fields of each message, once: X(C type, MPI datatype, name, doc).
 * They make the structs below and their MPI datatypes (msg.c), so the two
 * cannot drift apart. */
#define MSG_REPORT_FIELDS(X)                                                                            \
    X(int32_t, MPI_INT32_T, kind, "MsgReportKind")                                                       \
    X(int32_t, MPI_INT32_T, row, "row run or running; -1 in the first ROW report")                       \
    X(int32_t, MPI_INT32_T, status, "ROW: its TaskStatus, TASK_PENDING if stopped; 0 if row = -1")      \
    X(int32_t, MPI_INT32_T, signal_level, "SchedLevel reached by this worker's signals")                \
    X(int32_t, MPI_INT32_T, steps_done, "optimiser steps taken in this run (STEPS; ROW: at the end)")    \
    X(int32_t, MPI_INT32_T, ckpt_step, "step of the task's newest checkpoint, -1 if none")              \
    X(double, MPI_DOUBLE, wall_s, "ROW: seconds spent on the row (task_run and the write)")

#define MSG_CMD_FIELDS(X)                                                                               \
    X(int32_t, MPI_INT32_T, kind, "MsgCmdKind")                                                          \
    X(int32_t, MPI_INT32_T, row, "ASSIGN: next row, -1 = quit; ABANDON, DRAIN: the row it concerns")

#define MSG_FIELD_DECL(ctype, mpitype, name, doc) ctype name;

/* worker -> rank 0, MSG_TAG_REPORT */
typedef struct MsgReport {
    MSG_REPORT_FIELDS(MSG_FIELD_DECL)
} MsgReport;

/* rank 0 -> worker, MSG_TAG_CMD */
typedef struct MsgCmd {
    MSG_CMD_FIELDS(MSG_FIELD_DECL)
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
