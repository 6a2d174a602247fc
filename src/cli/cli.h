/* The tnt tool's parts. */
#ifndef TNT_CLI_H
#define TNT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Runs a store command (ingest, track, ...); -1 when cmd is none of them. */
int tnt__cli_store(const char *cmd, int argc, char **argv);
/* Runs an authenticity command (authenticate, keygen, issue, verify-answer); -1 when cmd is none. */
int tnt__cli_auth(const char *cmd, int argc, char **argv);
/* Opens the engine of --data / --config, or prints why not. */
struct tnt_engine *tnt__cli_open(const char *data, const char *config);
/* Writes s as a JSON string. */
void tnt__cli_json_str(FILE *f, const char *s);
/* An ISO 8601 time or milliseconds since 1970. */
bool tnt__cli_time(const char *s, int64_t *ms);

#endif /* TNT_CLI_H */
