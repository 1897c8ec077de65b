"""Export methods and call another entity's methods (spec 1.15, 2.3; the RTMv2 "obtain and
call the exported methods for a client" sample), with the Pythonic API.

1. a client registers and exports one method (method type bit ``1 << 0``): it
   prints its input and answers with a status and some bytes;
2. a second client finds it among the registered entities, asks which methods it
   exports (``get_entity_methods`` gives method type bits, never the functions),
   and invokes them all (``METHOD_TYPE_ALL_METHODS``) through the manager;
3. the first client blocks its methods (``block_methods``) while it changes its
   state: an invocation from another thread waits until the methods resume.

Methods are called as ``method(caller_handle, callee_handle, method_type, input_data)``
and return ``bytes``, ``(status, bytes)`` or ``None``; ``invoke_method`` returns one
``(method_type, method_status, output_data)`` record per method run, in bit order.

Run it with ``python examples/methods.py``; it exits with status 1 if anything
fails.
"""
import os
import sys
import threading
import time

try:
    import rtmcore
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import rtmcore

from rtmcore import (ERROR_INVALID_DATA, METHOD_TYPE_ALL_METHODS, NO_ERROR, PROTO_IP_RIP,
                     PROTO_TYPE_UCAST, PROTOCOL_ID, RtmError, extras)

extras.install(rtmcore.Entity, rtmcore.RoutingTableManager)  # idempotent: wires in the extras

# The C sample uses a vendor id of its own; so do we.
EXAMPLE_VENDOR_ID = 0x3FF0


class CheckFailed(Exception):
    pass


def expect(condition, what):
    """A check that, unlike ``assert``, also runs under ``python -O``."""
    if not condition:
        raise CheckFailed(what)


class Exporter:
    """The client whose method others call."""

    def __init__(self):
        self.generation = 1
        self.calls = 0

    def method(self, caller_handle, callee_handle, method_type, input_data):
        """The exported method: print the input, answer with a status and data."""
        self.calls += 1
        if not input_data:
            return ERROR_INVALID_DATA, b""
        print(f"  method {method_type:#x} of {callee_handle:#x} called by {caller_handle:#x}: "
              f"{input_data.decode()!r}")
        return NO_ERROR, f"generation {self.generation}".encode()


def run() -> None:
    rtm = rtmcore.RoutingTableManager()

    # 1. This client exports one method.
    exporter = Exporter()
    this = rtm.register_entity(PROTO_IP_RIP,
                               PROTOCOL_ID(PROTO_TYPE_UCAST, EXAMPLE_VENDOR_ID, PROTO_IP_RIP),
                               export_methods=[exporter.method])
    print(f"registered {this} exporting 1 method")

    # 2. Another client finds it and calls its methods through the manager.
    other = rtm.register_entity(PROTO_IP_RIP,
                                PROTOCOL_ID(PROTO_TYPE_UCAST, EXAMPLE_VENDOR_ID, PROTO_IP_RIP) + 1)
    handles, infos = other.get_registered_entities()
    target = next(h for h, i in zip(handles, infos)
                  if i.entity_instance_id == this.info.entity_instance_id)
    methods = other.get_entity_methods(target)
    print(f"entity {target:#x} exports {len(methods)} method(s): "
          + ", ".join(f"{m:#x}" for m in methods))
    expect(methods == [0x1], "one method, bit 0")

    out = other.invoke_method(target, METHOD_TYPE_ALL_METHODS, b"Hello, world")
    for rec in out:
        print(f"  record: method {rec.method_type:#x}, status {rec.method_status}, "
              f"output {rec.output_data!r}")
    expect(out == [(0x1, NO_ERROR, b"generation 1")], "unexpected method output")
    empty = other.invoke_method(target, 0x1, b"")
    print(f"  with no input: status {empty[0].method_status} (ERROR_INVALID_DATA)")
    expect(empty[0].method_status == ERROR_INVALID_DATA, "empty input must be refused")

    # 3. Block the methods while changing state; another thread's call waits.
    this.block_methods(rtmcore.RTM_BLOCK_METHODS)
    result = []
    caller = threading.Thread(
        target=lambda: result.extend(other.invoke_method(target, 0x1, b"are you there?")))
    caller.start()
    time.sleep(0.1)
    expect(caller.is_alive() and exporter.calls == 2, "the call must wait while blocked")
    print("methods blocked: the other thread's invocation is waiting")
    exporter.generation = 2
    this.block_methods(rtmcore.RTM_RESUME_METHODS)
    caller.join(5)
    expect(not caller.is_alive(), "the waiting invocation must resume")
    print(f"methods resumed: the waiting invocation got {result[0].output_data!r}")
    expect(result == [(0x1, NO_ERROR, b"generation 2")], "it must see the new state")

    other.release_entities(handles)
    this.deregister_entity()
    try:
        other.invoke_method(target, METHOD_TYPE_ALL_METHODS, b"still there?")
        raise CheckFailed("a deregistered entity cannot be invoked")
    except rtmcore.InvalidHandle as exc:
        print(f"after deregistration: InvalidHandle (status {exc.winerror})")
    other.deregister_entity()


def main() -> int:
    try:
        run()
    except (RtmError, CheckFailed) as exc:
        status = getattr(exc, "winerror", None)
        print(f"failed: {type(exc).__name__}: {exc}" + (f" (status {status})" if status else ""))
        return 1
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
