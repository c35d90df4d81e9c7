#!/bin/sh
# scripts/make-man.sh LIBRARY VERSION: writes the launcher's man page,
# opencoro(1), to stdout. The switches come from the library itself
# (OPENCORO_PRINT=switches), so that the page lists exactly the ones the
# library reads, with their defaults.
set -eu
lib=$1 version=$2
cat <<EOT
.TH OPENCORO 1 "" "opencoro $version" "User Commands"
.SH NAME
opencoro \- run a program on opencoro's coroutine runtime
.SH SYNOPSIS
.B opencoro
[\fIoptions\fR] [\fB\-\-\fR] \fIprogram\fR [\fIargs\fR...]
.SH DESCRIPTION
Runs \fIprogram\fR with libopencoro.so preloaded: its main runs as the first
coroutine, its threads become green threads, and its blocking calls suspend
only the calling thread while the worker threads run the others. The
program's arguments, exit status and signals pass through untouched.
.SH OPTIONS
.TP
.BR \-h ", " \-\-help
Usage, then every switch with its default.
.TP
.BR \-V ", " \-\-version
The library's version and the commit it was built from.
.TP
.BR \-w ", " \-\-workers " \fIN\fR"
Worker threads (OPENCORO_WORKERS=\fIN\fR).
.TP
.BR \-s ", " \-\-stats
Print the runtime's statistics at exit (OPENCORO_STATS=1).
.TP
.B \-\-os\-threads
pthread_create makes OS threads (OPENCORO_THREADS=os).
.TP
.BI \-\-log " level"
debug or off (OPENCORO_LOG).
.TP
.B \-\-no\-inherit
Programs that \fIprogram\fR runs do not get the library (OPENCORO_INHERIT=0).
.TP
.BI \-\-lib " path"
The library to preload (default: OPENCORO_LIB, else the one installed or
built beside the launcher).
.SH ENVIRONMENT
EOT
OPENCORO_PRINT=switches LD_PRELOAD="$lib" /bin/true | sed 's/\\/\\\\/g; s/^  \([A-Z_]*\) *\(.*\)$/.TP\n.B \1\n\2/'
cat <<'EOT'
.SH EXIT STATUS
The program's own; 127 when it or the library cannot be found, 126 when it
cannot be run, 2 for a bad option.
.SH FILES
.TP
.I libopencoro.so
The runtime, preloaded into the program (and, unless OPENCORO_INHERIT=0,
into the programs it runs).
.TP
.I opencoro.h
The C API: opencoro_spawn, opencoro_join, opencoro_yield, opencoro_active,
opencoro_stats, opencoro_set_listener, opencoro_version.
EOT
