/* A seeded supply-chain simulator for authenticity: genuine journeys and
 * the attacks of docs/authenticity.md, run through a real engine on the
 * embedded store; every verdict is tallied per scenario. */
#ifndef TNT_AUTHSIM_H
#define TNT_AUTHSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Scenarios: genuine scans, then one per attack. */
enum {
    SIM_GENUINE = 0,       /* scans of genuine items */
    SIM_VICTIM,            /* the buyer's scans of a genuine item whose code is cloned or replayed */
    SIM_GREY,              /* genuine, sold outside its intended market: must not be red */
    SIM_UNKNOWN_SERIAL,    /* A1 */
    SIM_CLONE_REGION,      /* A2, the copy in another region once the genuine reached a shop */
    SIM_CLONE_SAME_SHOP,   /* A2, mimicry at the same shop */
    SIM_REPLAY,            /* A3, a photographed code after a recorded sale */
    SIM_FORGED_SIG,        /* A4: random bytes, an attacker's key, an altered lot */
    SIM_KEY_WINDOW,        /* A4: a key out of its window, a revoked key */
    SIM_RECALLED,          /* A5: must be DO_NOT_USE */
    SIM_DESTROYED,         /* A5 */
    SIM_STOLEN,            /* A5: a stolen item brought back through a return */
    SIM_TAMPERED,          /* A6: edit, delete, insert, reorder, rollback */
    SIM_ENUMERATION,       /* A8: sources flagged within 100 guesses */
    SIM_RETURN_SWAP,       /* A9: a return far from the recorded sale */
    SIM_NSCEN
};

typedef struct sim_config {
    uint64_t seed;
    size_t items;          /* genuine items */
    double p_miss;         /* missed reads per read point */
    double scan_share;     /* share of sold items that consumers scan */
    size_t attacks;        /* items per attack scenario */
    const char *dir;       /* a fresh directory for the store */
    int verbose;           /* print the first misses of each scenario */
} sim_config;

typedef struct sim_tally {
    size_t scans;          /* scored scans (for enumeration: guessing sources) */
    size_t red;            /* SUSPECT, COUNTERFEIT (and DO_NOT_USE) */
    size_t amber, green, grey, do_not_use;
    size_t hit;            /* what the scenario counts as detected */
} sim_tally;

typedef struct sim_result {
    sim_tally t[SIM_NSCEN];
    size_t events, ingested_dups, verifications;
    double ingest_s, verify_s;
    double brier;          /* of P(genuine) on the scored scans */
    size_t brier_n;
} sim_result;

const char *sim_scenario_name(int s);
/* Runs one seed; 0 on success, else prints why to stderr. */
int sim_run(const sim_config *cfg, sim_result *res);
/* Adds b into a. */
void sim_add(sim_result *a, const sim_result *b);
/* Prints the table with the targets. */
void sim_print(FILE *f, const sim_result *r, const char *title);

#endif
