"""Programs: EXEC (execvp of a split command line), SYSTEM (sh -c) and SHELL ($SHELL -c).

The child is reached over a UNIX socket pair by default, or over two pipes (`pipes`) or a
pseudo terminal (`pty`), as in socat's _xioopen_foxec(). Only the channels the relay uses
are connected: a read-only child (left of -u) gets the channel as its stdout only and
keeps pysocat's stdin, a write-only one as its stdin only. The child gets socat's
environment variables; the parent forwards sighup/sigint/sigquit when asked.

Ending, as socat does: EOF towards a write-only child over a socket waits up to 1 s for the
child to exit, then SIGTERM (xioshutdown()); at close the child is sent SIGTERM before its
channel is closed (xioclose()), so a program on a pty dies quietly instead of reading EIO.
pysocat adds one thing: a child that has already closed its output is given up to 1 s to
exit on its own, so its exit status is always reported (socat 1.8 loses it in a race).
"""
from __future__ import annotations

import fcntl
import os
import signal
import socket
import sys
import termios
from ..record import dataclass

from .. import children
from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues
from ..registry import ResolvedAddress, address
from .common import ADDRESS_ENVIRONMENT, OpenContext, apply_process_options, apply_termios
from .pty import check_speeds

EXEC_GROUPS = (G.FD, G.FIFO, G.SOCKET, G.EXEC, G.FORK, G.TERMIOS, G.PTY, G.PARENT, G.UNIX)
FORWARDABLE = {O.SIGHUP: signal.SIGHUP, O.SIGINT: signal.SIGINT, O.SIGQUIT: signal.SIGQUIT}

SYSTEM_SHELL = "/bin/sh"


@dataclass
class Program:
    """What to run: the file to execute, its argv, and how socat words its errors."""

    path: str
    argv: list[str]
    search_path: bool  # execvp (EXEC) or a fixed path (SYSTEM, SHELL)
    shell_command: str | None = None


@address(("EXEC",), ("<command-line>",), EXEC_GROUPS, "EXEC",
         "runs a program (execvp), its stdin and stdout connected to pysocat")
def open_exec(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    return spawn(addr, ctx, program_of(addr))


@address(("SYSTEM",), ("<shell-command>",), EXEC_GROUPS, "SYSTEM",
         "runs a shell command line with /bin/sh -c")
def open_system(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    return spawn(addr, ctx, program_of(addr))


@address(("SHELL",), ("<shell-command>",), EXEC_GROUPS + (G.SHELL,), "SHELL",
         "runs a command line with $SHELL -c (option shell= picks the shell)", optional_params=1)
def open_shell(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    return spawn(addr, ctx, program_of(addr))


def program_of(addr: ResolvedAddress) -> Program:
    """socat's argv conventions: EXEC splits on spaces; system() runs `sh -c` with argv[0]
    "sh" (visible as $0 and in the shell's messages); SHELL uses the shell's base name."""
    if addr.type.name == "EXEC":
        from ..grammar import split_command_line

        argv = split_command_line(addr.params[0])
        if not argv:
            raise SocatError(f'"{addr.keyword}:": no command given')
        return Program(argv[0], argv, True)
    if addr.type.name == "SYSTEM":
        return Program(SYSTEM_SHELL, ["sh", "-c", addr.params[0]], False, addr.params[0])
    shell = str(addr.options.get(O.SHELL_PATH) or os.environ.get("SHELL") or SYSTEM_SHELL)
    name = os.path.basename(shell)
    if addr.params:
        return Program(shell, [name, "-c", addr.params[0]], False, addr.params[0])
    return Program(shell, [name], False, shell)


def child_environment(ctx: OpenContext) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ADDRESS_ENVIRONMENT)  # SOCAT_PEERADDR and the like, as socat's setenv() leaves them
    env.update(ctx.environment)
    return env


@dataclass
class ChildEndpoint(Endpoint):
    """An endpoint whose far side is a child process; ends the child the way socat does."""

    pid: int = 0
    transport: str = "socket"  # socket, pipes, pty
    write_only: bool = False
    output_fd: int | None = None  # where the child's output arrives (probed at close)

    def shutdown_write(self) -> None:
        already = self._closed_write
        super().shutdown_write()
        if already or not self.write_only or self.transport != "socket":
            return
        # xioshutdown(), END_SHUTDOWN_KILL and write-only: let the child finish its work
        if not children.wait_exit_after_eof(self.pid, children.WAIT_DIE) and children.alive(self.pid):
            LOG.notice("SIGALRM while waiting for wo child process to die, killing it now")
            children.end(self.pid)
            children.collect_ended(self.pid)

    def close(self) -> None:
        if self._closed:
            return
        if self.policy.end_close:
            super().close()  # end-close: the program is left running (others may share it)
            return
        if children.alive(self.pid) and children.output_ended(self.output_fd):
            children.wait_exit(self.pid, children.WAIT_DIE)
        children.end(self.pid)  # before the channel closes: the child dies quietly
        super().close()
        children.collect_ended(self.pid)


def spawn(addr: ResolvedAddress, ctx: OpenContext, program: Program) -> Endpoint:
    opts = addr.options
    use_pty = opts.flag(O.PTY_OPT)
    use_pipes = opts.flag(O.PIPES)
    if use_pipes and use_pty:
        LOG.warn('_xioopen_foxec(): options "pipes" and "pty" must not be specified together; ignoring "pipes"')
        use_pipes = False
    if O.FDIN in opts and not ctx.writable:
        raise SocatError("_xioopen_foxec(): option fdin is useless in read-only mode")
    if O.FDOUT in opts and not ctx.readable:
        raise SocatError("_xioopen_foxec(): option fdout is useless in write-only mode")
    transport = "pty" if use_pty else "pipes" if use_pipes else "socket"
    LOG.notice(f"forking off child, using {transport} for {ctx.direction_text}")
    child_in = child_out = None
    if use_pty:
        check_speeds(opts)
        parent_fd, slave_fd = os.openpty()
        parent_read = parent_write = parent_fd
        child_in = child_out = slave_fd
        apply_termios(parent_fd, opts)
    elif use_pipes:
        parent_read = parent_write = -1
        if ctx.readable:
            parent_read, child_out = os.pipe()
        if ctx.writable:
            child_in, parent_write = os.pipe()
    else:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        parent_read = parent_write = ours.detach()
        child_in = child_out = theirs.detach()
    env = child_environment(ctx)
    if O.PATH in opts:
        env["PATH"] = str(opts.get(O.PATH))
    parent_fds = {fd for fd in (parent_read, parent_write) if fd >= 0}
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(opts, program, env, child_in if ctx.writable else None, child_out if ctx.readable else None,
               parent_fds, use_pty)
    for fd in {fd for fd in (child_in, child_out) if fd is not None}:
        os.close(fd)
    LOG.notice(f"forked off child process {pid}")
    LOG.notice(f"forked off child process {pid}")
    children.register(pid, program.argv[0])
    for opt, signum in FORWARDABLE.items():
        if opt in opts:
            children.forwarded_signals.add(signum)
    endpoint = ChildEndpoint(
        f"child {pid}",
        parent_read if ctx.readable else None,
        parent_write if ctx.writable else None,
        policy_from_options(opts),
        read_eof_errnos=(5,) if use_pty else (),  # EIO on the master once the child is gone
        pid=pid,
        transport=transport,
        write_only=not ctx.readable,
        output_fd=parent_read if ctx.readable else None,
    )
    return endpoint


def _child(opts: OptionValues, program: Program, env: dict[str, str], child_in: int | None,
           child_out: int | None, parent_fds: set[int], use_pty: bool) -> None:
    """Runs in the forked child: never returns."""
    try:
        for signum in (signal.SIGPIPE, signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
                       signal.SIGQUIT, signal.SIGUSR1, signal.SIGALRM):
            signal.signal(signum, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        for fd in parent_fds:
            os.close(fd)
        if O.UMASK in opts:
            os.umask(int(opts.get(O.UMASK)))  # type: ignore[arg-type]
        if O.SETPGID in opts:
            _setpgid(int(opts.get(O.SETPGID)))  # type: ignore[arg-type]
        if opts.flag(O.SETSID):
            try:
                os.setsid()
            except OSError as err:
                LOG.warn(f"setsid(): {os.strerror(err.errno or 0)}")
        tty = child_out if child_out is not None else child_in
        if use_pty and opts.flag(O.CTTY) and tty is not None:
            _take_terminal(tty)
        fdin = int(opts.get(O.FDIN, 0))  # type: ignore[arg-type]
        fdout = int(opts.get(O.FDOUT, 1))  # type: ignore[arg-type]
        for source, target in ((child_in, fdin), (child_out, fdout)):
            if source is None:
                continue
            if source != target:
                os.dup2(source, target)  # inheritable
            else:
                os.set_inheritable(target, True)  # created close-on-exec
        for fd in {fd for fd in (child_in, child_out) if fd is not None} - {0, 1, 2, fdin, fdout}:
            os.close(fd)
        apply_process_options(opts)
        if program.shell_command is not None:
            LOG.info(f'executing shell command "{program.shell_command}"')
        else:
            LOG.notice(f'execvp\'ing "{program.path}"')
        argv = list(program.argv)
        if opts.flag(O.DASH):
            argv[0] = "-" + argv[0]
        if opts.flag(O.STDERR) and child_out is not None:
            # socat's diag_dup(): its own messages stay on the original stderr
            LOG.stream = os.fdopen(os.dup(2), "w", buffering=1)
            os.dup2(fdout, 2)
        try:
            if program.search_path:
                os.execvpe(program.path, argv, env)
            else:
                os.execve(program.path, argv, env)
        except OSError as err:
            call = "execvp" if program.search_path else "execve"
            LOG.error(f"{call}({_quoted_args(program.path, argv)}): {os.strerror(err.errno or 0)}")
            os._exit(1)
    except SocatError as err:
        LOG.log(err.level, err.text)
        os._exit(1)
    except OSError as err:
        LOG.error(f"{err.filename or 'child'}: {os.strerror(err.errno or 0)}")
        os._exit(1)
    except BaseException as err:  # never let the child return into pysocat's loop
        LOG.error(f"child setup failed: {err}")
        os._exit(1)
    os._exit(1)


def _quoted_args(path: str, argv: list[str]) -> str:
    """socat's Execvp() wording: the file, then argv[0..2] one by one, `...` for more."""
    shown = [f'"{path}"'] + [f'"{arg}"' for arg in argv[:3]]
    if len(argv) >= 3:
        shown.append("...")
    return ", ".join(shown)


def _setpgid(pgid: int) -> None:
    """socat calls setpgid(0, value) as given (no value means 1, which fails: only a
    warning, the program still runs); setpgid=0 makes the child a group leader."""
    try:
        os.setpgid(0, pgid)
    except OSError as err:
        LOG.warn(f"setpgid(0, {pgid}): {os.strerror(err.errno or 0)}")


def _take_terminal(tty: int) -> None:
    """Option ctty, as socat: drop the old controlling terminal, make the pty the
    controlling one, and make the child its foreground process group (warnings only)."""
    try:
        old = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError as err:
        LOG.warn(f'open("/dev/tty", O_NOCTTY, 0640): {os.strerror(err.errno or 0)}')
    else:
        try:
            fcntl.ioctl(old, termios.TIOCNOTTY)
        except OSError:
            pass
        os.close(old)
    try:
        fcntl.ioctl(tty, termios.TIOCSCTTY, 0)
    except OSError as err:
        LOG.warn(f"ioctl({tty}, TIOCSCTTY, NULL): {os.strerror(err.errno or 0)}")
    try:
        os.tcsetpgrp(0, os.getpid())
    except OSError as err:
        LOG.warn(f"tcsetpgrp({os.getpid()}): {os.strerror(err.errno or 0)}")


def exec_in_place(addr: ResolvedAddress, ctx: OpenContext, peer: Endpoint) -> int:
    """`nofork`: the program runs with the other address as its stdin/stdout, in place of
    pysocat's own relay. EXEC replaces pysocat (execvp); SYSTEM and SHELL run as socat's
    system() does: a shell child that pysocat waits for, so that pysocat stays the parent
    (a signal to $PPID reaches pysocat) and exits with the shell's status."""
    opts = addr.options
    program = program_of(addr)
    env = child_environment(ctx)
    if O.PATH in opts:
        env["PATH"] = str(opts.get(O.PATH))
    # a direction that -u/-U leaves out keeps pysocat's own stdin or stdout, as in socat
    if peer.read_fd is not None and peer.read_fd != 0:
        os.dup2(peer.read_fd, 0)
    if peer.write_fd is not None and peer.write_fd != 1:
        os.dup2(peer.write_fd, 1)
    if O.UMASK in opts:
        os.umask(int(opts.get(O.UMASK)))  # type: ignore[arg-type]
    apply_process_options(opts)
    argv = list(program.argv)
    if opts.flag(O.DASH):
        argv[0] = "-" + argv[0]
    if program.shell_command is not None:
        return _system(program, argv, env)
    _default_signals()
    LOG.notice(f'execvp\'ing "{program.path}"')
    sys.stdout.flush()
    try:
        if program.search_path:
            os.execvpe(program.path, argv, env)
        else:
            os.execve(program.path, argv, env)
    except OSError as err:
        call = "execvp" if program.search_path else "execve"
        raise SocatError(f"{call}({_quoted_args(program.path, argv)}): {os.strerror(err.errno or 0)}") from None


def _default_signals() -> None:
    for signum in (signal.SIGPIPE, signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)


def _system(program: Program, argv: list[str], env: dict[str, str]) -> int:
    """system(3) as socat calls it under nofork: SIGINT and SIGQUIT are ignored while the
    shell runs, SIGTERM keeps pysocat's handler (exit 143), and the exit status is the
    shell's (socat's Exit(WEXITSTATUS(status)): 0 for a shell killed by a signal)."""
    LOG.info(f'executing shell command "{program.shell_command}"')
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # nobody else may reap the shell
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            _default_signals()
            os.execve(program.path, argv, env)
        finally:
            os._exit(127)
    for signum in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_IGN)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        LOG.warn(f'system("{program.shell_command}") returned with status {status}')
    return (status >> 8) & 0xFF
