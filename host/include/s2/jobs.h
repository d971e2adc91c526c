/**
 * @file jobs.h
 * @brief Energy per SLURM job, user and account (docs/cluster.md, "Energy per job").
 *
 * The epilog writes one *job energy report* per job (STATE/energy/JOBID.s2job, an s2 file
 * container of kind "JOBE" with one text section "job"): the job id, user and account, when
 * the prolog took the boards and when the epilog gave them back, and per board its static
 * power while held (modelled: every chip powered, idle included: the SCI rule charges a job
 * for the hardware reserved for it, used or not) and the dynamic energy its activity
 * counters show at the epilog. s2_jobs_sum() adds reports up over a period so that each
 * board's energy is counted exactly once: a board's time is split between the jobs that held
 * it (in order of their start; a stretch two reports claim is given to the first and
 * reported as overlap) and idle, so the jobs' energies plus the unallocated idle equal the
 * machine's total over the period.
 */
#ifndef S2_JOBS_H
#define S2_JOBS_H

#include <stddef.h>
#include <stdint.h>

#define S2_JOB_MAX_BOARDS 4096

struct s2_job_energy {
	char job[32], user[64], account[64];
	char model[64];    /**< energy model version */
	uint64_t start_us; /**< the prolog: boards taken (Unix microseconds) */
	uint64_t end_us;   /**< the epilog: boards given back */
	unsigned n;
	unsigned board[S2_JOB_MAX_BOARDS];   /**< site board index */
	double static_w[S2_JOB_MAX_BOARDS];  /**< watts while held */
	double dynamic_j[S2_JOB_MAX_BOARDS]; /**< joules of activity at the epilog */
};

/** Joules of job board i over the whole time held: static_w x seconds + dynamic_j. */
double s2_job_board_j(const struct s2_job_energy *j, unsigned i);
/** Joules of the job over the whole time held. */
double s2_job_total_j(const struct s2_job_energy *j);

/** Write a report atomically (mode 0644). 0 or a negative code, err set. */
int s2_job_energy_save(const struct s2_job_energy *j, const char *path, char *err, size_t errlen);
/** Read one; every line checked. 0 or a negative code, err naming the file and line. */
int s2_job_energy_load(const char *path, struct s2_job_energy *j, char *err, size_t errlen);
/** The same from the file's bytes buf[0..len) (untrusted); name is for messages. */
int s2_job_energy_decode(const uint8_t *buf, size_t len, const char *name, struct s2_job_energy *j,
                         char *err, size_t errlen);

/** One job's share of a period. */
struct s2_jobs_share {
	double energy_j;  /**< static over its clipped time + its dynamic, prorated */
	double seconds;   /**< its time in the period (as held, before overlap removal) */
	double overlap_s; /**< board-seconds another report already claimed (0 normally) */
};

/** A period's split. */
struct s2_jobs_period {
	double total_j;   /**< every board over the whole period (static) + all jobs' dynamic */
	double idle_j;    /**< boards held by no job */
	double jobs_j;    /**< sum of the shares */
	double overlap_s; /**< board-seconds claimed twice (0 normally) */
};

/**
 * Split [from_us, to_us) among jobs[0..n) on a machine of n_boards boards whose boards draw
 * board_static_w each while idle (the same model as the reports).
 * A job's dynamic energy is prorated by the fraction of its time inside the period.
 * @param share  share[i] for jobs[i]
 * @return 0, or S2_E_RANGE (a report names a board >= n_boards, or from >= to), err set.
 */
int s2_jobs_sum(const struct s2_job_energy *const *jobs, size_t n, unsigned n_boards,
                double board_static_w, uint64_t from_us, uint64_t to_us,
                struct s2_jobs_share *share, struct s2_jobs_period *p, char *err, size_t errlen);

#endif
