# opencoro's gdb extension: see every coroutine of a program that runs under
# libopencoro.so, with its state and backtrace, in a live process or a core
# file.
#
#   gdb -p PID -ex 'source /usr/local/share/opencoro/opencoro-gdb.py' -ex 'opencoro bt'
#
# Commands:
#   opencoro list   one line per coroutine: kind, state, what it waits for
#   opencoro bt     the same, each followed by its backtrace (the program's
#                   frames and the libc call it waits in; `opencoro bt full`
#                   also the runtime's own)
#
# The library keeps a list of its live coroutines (`opencoro_debug_head`,
# layout version `opencoro_debug_version`, see src/coro/debug.rs); each entry
# records the pc, sp and fp where the coroutine last suspended. A suspended
# coroutine's backtrace is unwound from there: while `opencoro bt` prints
# it, an unwinder of this script presents those registers as the caller of
# the selected thread's frame 0, whose own line is left out. A running
# coroutine's stack is its worker thread's: `thread apply all bt` shows it.

import gdb
from gdb.unwinder import Unwinder

LAYOUT_VERSION = 1
# struct Node (repr C): next, prev, task, state*, tid*, pc, sp, fp,
# wait_kind (u8), wait_arg (u64), kind (u32)
OFF_NEXT, OFF_TASK, OFF_STATE, OFF_TID, OFF_CTX = 0, 16, 24, 32, 40
OFF_WAIT_KIND, OFF_WAIT_ARG, OFF_KIND = 64, 72, 80

STATES = {0: "runnable", 1: "running", 2: "waiting", 3: "runnable (woken while running)", 4: "done"}
KINDS = {0: "C API coroutine", 1: "green thread", 2: "main"}


def _read(addr, size):
    mem = gdb.selected_inferior().read_memory(addr, size)
    return int.from_bytes(bytes(mem), "little")


def _symbol_addr(name):
    """The address of a symbol of the library (its dynamic symbols carry no
    type: C's syntax reads them, whatever the current frame's language)."""
    lang = gdb.parameter("language")
    try:
        gdb.execute("set language c", to_string=True)
        return int(gdb.parse_and_eval("(unsigned long)&%s" % name))
    except gdb.error:
        return None
    finally:
        gdb.execute("set language %s" % lang, to_string=True)


def _wait_text(kind, arg):
    if kind == 1:
        return "waiting on fd %d" % arg
    if kind == 2:
        return "waiting on a lock or condition at 0x%x" % arg
    if kind == 3:
        return "sleeping"
    if kind == 4:
        return "joining coroutine 0x%x" % arg
    if kind == 5:
        return "in a call on the blocking pool"
    if kind == 6:
        return "exited (main called pthread_exit)"
    return ""


def coroutines():
    """Every live coroutine, as dicts, newest first."""
    head = _symbol_addr("opencoro_debug_head")
    if head is None:
        raise gdb.GdbError("opencoro: no opencoro_debug_head here (is libopencoro.so loaded?)")
    ver = _symbol_addr("opencoro_debug_version")
    if ver is not None and _read(ver, 4) != LAYOUT_VERSION:
        raise gdb.GdbError("opencoro: the library's debug layout is version %d; this script reads %d" % (_read(ver, 4), LAYOUT_VERSION))
    out = []
    node = _read(head, 8)
    seen = set()
    while node and node not in seen and len(out) < 1000000:
        seen.add(node)
        state_p, tid_p = _read(node + OFF_STATE, 8), _read(node + OFF_TID, 8)
        out.append({
            "task": _read(node + OFF_TASK, 8),
            "state": _read(state_p, 1) if state_p else 0,
            "tid": _read(tid_p, 4) if tid_p else 0,
            "ctx": [_read(node + OFF_CTX + 8 * i, 8) for i in range(3)],
            "wait": (_read(node + OFF_WAIT_KIND, 1), _read(node + OFF_WAIT_ARG, 8)),
            "kind": _read(node + OFF_KIND, 4),
        })
        node = _read(node + OFF_NEXT, 8)
    return out


def describe(c):
    state = STATES.get(c["state"], "state %d" % c["state"])
    line = "coroutine 0x%x (%s): %s" % (c["task"], KINDS.get(c["kind"], "?"), state)
    if c["state"] == 1:
        line += " on thread LWP %d" % c["tid"]
    elif c["state"] == 2:
        w = _wait_text(*c["wait"])
        if w:
            line += ", " + w
    return line


class _CoroutineUnwinder(Unwinder):
    """Presents a suspended coroutine's registers as the caller of frame 0."""

    def __init__(self):
        super().__init__("opencoro")
        self.ctx = None

    def __call__(self, pending):
        if self.ctx is None or pending.level() != 0:
            return None
        pc, sp, fp = self.ctx
        ptr = gdb.lookup_type("unsigned long")
        fid = _FrameId(pending.read_register("rsp"), pending.read_register("rip"))
        info = pending.create_unwind_info(fid)
        info.add_saved_register("rip", gdb.Value(pc).cast(ptr))
        info.add_saved_register("rsp", gdb.Value(sp).cast(ptr))
        info.add_saved_register("rbp", gdb.Value(fp).cast(ptr))
        return info


class _FrameId(object):
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


_UNWINDER = _CoroutineUnwinder()
gdb.unwinder.register_unwinder(None, _UNWINDER, replace=True)


def backtrace(c, full=False, limit=64):
    """The backtrace of a suspended coroutine, as text (`full`: with the
    runtime's own frames)."""
    if not c["ctx"][1]:
        return "    (not started yet)\n"
    _UNWINDER.ctx = c["ctx"]
    gdb.invalidate_cached_frames()
    try:
        text = gdb.execute("bt %d" % (limit + 1), to_string=True)
    finally:
        _UNWINDER.ctx = None
        gdb.invalidate_cached_frames()
    frames = []
    for l in text.splitlines():
        if l.startswith("#"):
            frames.append(l)
        elif frames:
            frames[-1] += "\n" + l  # a frame's continuation line
    # frame #0 is the selected thread's own; the coroutine starts at #1
    frames = [f for f in frames if not f.startswith("#0 ")]
    if not full:
        # up to the coroutine's root (below it: the worker that resumed it)
        root = next((i for i, f in enumerate(frames) if _function(f).startswith("corosensei::")), len(frames))
        frames = [f for f in frames[:root] if _shown(f)]
    return "".join("    " + f + "\n" for f in frames)


_INTERNAL = ("opencoro_runtime::", "std::", "core::", "alloc::", "corosensei::")


def _function(frame):
    """The function a `bt` line names."""
    words = frame.split()
    if len(words) > 3 and words[2] == "in":
        return words[3]
    return words[1] if len(words) > 1 else ""


def _shown(frame):
    """Frames of the program and its libraries, and the libc call that the
    runtime turned into a wait (the hook: `opencoro_runtime::hooks::FAMILY::NAME`);
    the runtime's own frames and the coroutine's root are left out."""
    f = _function(frame)
    if f.startswith("opencoro_runtime::hooks::"):
        # the exported hook itself (made by the table's macro), not the
        # handlers behind it
        parts = f.split("::")
        return len(parts) == 4 and "{" not in f and "<" not in f and "src/hooks/mod.rs" in frame
    if f.startswith(_INTERNAL) or f.startswith("<") or "<signal handler called>" in frame:
        return False
    return not f.startswith("0x0000000000000000") and " ?? " not in frame


class OpencoroCommand(gdb.Command):
    """opencoro list | opencoro bt: the coroutines of a program under libopencoro.so."""

    def __init__(self):
        super().__init__("opencoro", gdb.COMMAND_STACK, prefix=True)


class _Listing(gdb.Command):
    """`opencoro list`: one line per coroutine (kind, state, what it waits
    for). `opencoro bt`: each followed by its backtrace (running ones: see
    their thread); `opencoro bt full` keeps the runtime's own frames."""

    def __init__(self, name, with_bt):
        super().__init__(name, gdb.COMMAND_STACK)
        self.with_bt = with_bt

    def invoke(self, arg, from_tty):
        cs = coroutines()
        gdb.write("%d coroutines\n" % len(cs))
        for c in cs:
            gdb.write(describe(c) + "\n")
            if not self.with_bt:
                continue
            if c["state"] == 1:
                gdb.write("    (running: 'thread find LWP %d', then 'bt')\n" % c["tid"])
            else:
                gdb.write(backtrace(c, full=(arg.strip() == "full")))


OpencoroCommand()
_Listing("opencoro list", False)
_Listing("opencoro bt", True)
