"""Programs: EXEC (execvp of a split command line), SYSTEM (/bin/sh -c) and SHELL ($SHELL -c).

The child is reached over a UNIX socket pair by default, or over two pipes (`pipes`) or a
pseudo terminal (`pty`), as in socat's _xioopen_foxec. The child gets socat's environment
variables; the parent forwards sighup/sigint/sigquit when asked and reaps the child.
"""
from __future__ import annotations

import fcntl
import os
import signal
import socket
import termios

from .. import children
from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..options import Group as G
from ..options import OptionValues
from ..registry import ResolvedAddress, address
from .common import OpenContext, apply_process_options, apply_termios

EXEC_GROUPS = (G.FD, G.FIFO, G.SOCKET, G.EXEC, G.FORK, G.TERMIOS, G.PTY, G.PARENT, G.UNIX)
FORWARDABLE = {O.SIGHUP: signal.SIGHUP, O.SIGINT: signal.SIGINT, O.SIGQUIT: signal.SIGQUIT}
forwarded_signals: set[int] = set()  # signals the command line passes on to children


@address(("EXEC",), ("<command-line>",), EXEC_GROUPS, "EXEC",
         "runs a program (execvp), its stdin and stdout connected to socat")
def open_exec(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    from ..grammar import split_command_line

    argv = split_command_line(addr.params[0])
    if not argv:
        raise SocatError(f'"{addr.keyword}:": no command given')
    return spawn(addr, ctx, argv, shell_command=None)


@address(("SYSTEM",), ("<shell-command>",), EXEC_GROUPS, "SYSTEM",
         "runs a shell command line with /bin/sh -c")
def open_system(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    return spawn(addr, ctx, ["/bin/sh", "-c", addr.params[0]], shell_command=addr.params[0])


@address(("SHELL",), ("<shell-command>",), EXEC_GROUPS + (G.SHELL,), "SHELL",
         "runs a command line with $SHELL -c (option shell= picks the shell)", optional_params=1)
def open_shell(addr: ResolvedAddress, ctx: OpenContext) -> Endpoint:
    shell = str(addr.options.get(O.SHELL_PATH) or os.environ.get("SHELL") or "/bin/sh")
    argv = [shell, "-c", addr.params[0]] if addr.params else [shell]
    return spawn(addr, ctx, argv, shell_command=addr.params[0] if addr.params else shell)


def child_environment(ctx: OpenContext) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ctx.environment)
    return env


def spawn(addr: ResolvedAddress, ctx: OpenContext, argv: list[str], shell_command: str | None) -> Endpoint:
    opts = addr.options
    use_pty = opts.flag(O.PTY_OPT)
    use_pipes = opts.flag(O.PIPES)
    if use_pty:
        parent_fd, slave_fd = os.openpty()
        LOG.notice(f"forking off child, using pty for {ctx.direction_text}")
        parent_read = parent_write = parent_fd
        child_in = child_out = slave_fd
        apply_termios(parent_fd, opts)
    elif use_pipes:
        LOG.notice(f"forking off child, using pipes for {ctx.direction_text}")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        parent_read, parent_write = from_child_r, to_child_w
        child_in, child_out = to_child_r, from_child_w
    else:
        LOG.notice(f"forking off child, using socket for {ctx.direction_text}")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        parent_read = parent_write = ours.detach()
        child_in = child_out = theirs.detach()
    env = child_environment(ctx)
    if O.PATH in opts:
        env["PATH"] = str(opts.get(O.PATH))
    pid = os.fork()
    if pid == 0:
        _child(opts, argv, shell_command, env, child_in, child_out, {parent_read, parent_write}, use_pty)
    for fd in {child_in, child_out}:
        os.close(fd)
    LOG.notice(f"forked off child process {pid}")
    LOG.notice(f"forked off child process {pid}")
    children.register(pid, argv[0])
    for opt, signum in FORWARDABLE.items():
        if opt in opts:
            forwarded_signals.add(signum)
    endpoint = Endpoint(
        f"child {pid}",
        parent_read if ctx.readable else None,
        parent_write if ctx.writable else None,
        policy_from_options(opts),
        read_eof_errnos=(5,) if use_pty else (),  # EIO on the master once the child is gone
    )
    if not ctx.readable and parent_read != parent_write:
        os.close(parent_read)
    if not ctx.writable and parent_read != parent_write:
        os.close(parent_write)
    endpoint.on_close.append(lambda: children.terminate(pid, grace=0.0))
    return endpoint


def _child(opts: OptionValues, argv: list[str], shell_command: str | None, env: dict[str, str],
           child_in: int, child_out: int, parent_fds: set[int], use_pty: bool) -> None:
    """Runs in the forked child: never returns."""
    try:
        for signum in (signal.SIGPIPE, signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
                       signal.SIGQUIT, signal.SIGUSR1):
            signal.signal(signum, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        for fd in parent_fds:
            os.close(fd)
        if use_pty or opts.flag(O.SETSID) or opts.flag(O.CTTY):
            try:
                os.setsid()
            except OSError:
                pass
        if use_pty and opts.flag(O.CTTY):
            fcntl.ioctl(child_in, termios.TIOCSCTTY, 0)
        if O.SETPGID in opts:
            os.setpgid(0, int(opts.get(O.SETPGID)))  # type: ignore[arg-type]
        fdin = int(opts.get(O.FDIN, 0))  # type: ignore[arg-type]
        fdout = int(opts.get(O.FDOUT, 1))  # type: ignore[arg-type]
        os.dup2(child_in, fdin)
        os.dup2(child_out, fdout)
        if opts.flag(O.STDERR):
            os.dup2(child_out, 2)
        for fd in {child_in, child_out} - {0, 1, 2, fdin, fdout}:
            os.close(fd)
        apply_process_options(opts)
        if shell_command is not None:
            LOG.info(f'executing shell command "{shell_command}"')
        else:
            LOG.notice(f'execvp\'ing "{argv[0]}"')
        program = argv[0]
        if opts.flag(O.DASH):
            argv = ["-" + os.path.basename(program), *argv[1:]]
        try:
            os.execvpe(program, argv, env)
        except OSError as err:
            LOG.error(f'execvp("{program}", "{" ".join(argv)}"): {os.strerror(err.errno or 0)}')
            os._exit(1)
    except SocatError as err:
        LOG.log(err.level, err.text)
        os._exit(1)
    except BaseException as err:  # never let the child return into socat's loop
        LOG.error(f"child setup failed: {err}")
        os._exit(1)
    os._exit(1)


def exec_in_place(addr: ResolvedAddress, ctx: OpenContext, peer: Endpoint) -> None:
    """`nofork`: the program replaces pysocat, its stdin/stdout being the other address."""
    opts = addr.options
    if addr.type.name == "EXEC":
        from ..grammar import split_command_line

        argv = split_command_line(addr.params[0])
    else:
        argv = ["/bin/sh", "-c", addr.params[0]]
    env = child_environment(ctx)
    read_fd = peer.read_fd if peer.read_fd is not None else os.open(os.devnull, os.O_RDONLY)
    write_fd = peer.write_fd if peer.write_fd is not None else os.open(os.devnull, os.O_WRONLY)
    os.dup2(read_fd, 0)
    os.dup2(write_fd, 1)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    apply_process_options(opts)
    LOG.notice(f'execvp\'ing "{argv[0]}"')
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as err:
        raise SocatError(f'execvp("{argv[0]}", "{" ".join(argv)}"): {os.strerror(err.errno or 0)}') from None
