/* The tnt tool's parts. */
#ifndef TNT_CLI_H
#define TNT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Runs a store command (ingest, track, ...); -1 when cmd is none of them. */
int tnt__cli_store(const char *cmd, int argc, char **argv);
/* Writes s as a JSON string. */
void tnt__cli_json_str(FILE *f, const char *s);
/* An ISO 8601 time or milliseconds since 1970. */
bool tnt__cli_time(const char *s, int64_t *ms);

#endif /* TNT_CLI_H */
