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
/* Whether the store of --data / --config is there (config.yml: assumed), or prints that it is not. */
bool tnt__cli_store_there(const char *data, const char *config);
/* Opens the engine of --data / --config, or prints why not. */
struct tnt_engine *tnt__cli_open(const char *data, const char *config);
/* Writes s as a JSON string. */
void tnt__cli_json_str(FILE *f, const char *s);
/* An ISO 8601 time or milliseconds since 1970. */
bool tnt__cli_time(const char *s, int64_t *ms);
/* The whole of s as a number from lo to hi (an integer when integer), or
 * false after saying so on stderr, naming the option. */
bool tnt__cli_number(const char *option, const char *s, double lo, double hi, bool integer, double *out);

#endif /* TNT_CLI_H */
