"""A wabridge process for the integration tests: started on 127.0.0.1 (control plane and ICE),
stopped with SIGTERM, its exit status and stderr returned. Imported by the *_test.py scripts."""
import os
import signal
import socket
import subprocess
import time

# Settings a developer's shell may carry that would change what a test sees.
SCRUBBED = ("BRIDGE_API_TOKEN", "OPENAI_API_KEY", "PUBLIC_IP")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_bridge(binary, **settings):
    """Returns (process, http_port) once the control plane accepts connections."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update({"PORT": str(port), "BIND_ADDRESS": "127.0.0.1", "ICE_BIND_ADDRESSES": "127.0.0.1",
                "LOG_FORMAT": "json", "DRAIN_SECONDS": "1"})
    env.update({k: str(v) for k, v in settings.items()})
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    raise RuntimeError("bridge did not start: " + proc.stderr.read())


def stop_bridge(proc, timeout=10):
    """SIGTERM (a drain), then the exit status and everything it wrote to stderr."""
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = -9
    return code, proc.stderr.read()


def run_case(name, fn, *args):
    """Runs one test case and prints `ok - name` or `not ok - name` with the traceback (the lines
    tools/run_tests.sh counts). A case may return its measured numbers, shown after the name, or
    (numbers or None, why it was skipped). Returns True when it passed."""
    import sys
    import traceback
    try:
        detail = fn(*args)
        skip = None
        if isinstance(detail, tuple):
            detail, skip = detail
        print("ok - %s%s%s" % (name, " (%s)" % detail if detail else "",
                               " # SKIP " + skip if skip else ""))
        return True
    except Exception:
        print("not ok - " + name)
        traceback.print_exc(file=sys.stdout)
        return False
    finally:
        sys.stdout.flush()
