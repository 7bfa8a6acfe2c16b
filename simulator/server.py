"""The simulator's HTTP face: SoftLayer's XML-RPC protocol, plus a small JSON control API.

XML-RPC:  POST /xmlrpc/v3.1/SoftLayer_<Service>  (also /xmlrpc/v3/), as the `SoftLayer` client
          and `slcli` send it. Faults go out as XML-RPC faults with HTTP 200 and a string
          faultCode; list results carry `SoftLayer-Total-Items`.
Control:  GET /control/stats, POST /control/reset, POST /control/faults, POST /control/devices
          (JSON), for tests and demos: count calls, inject faults, change the inventory.
"""

import json
import logging
import re
import threading
import time
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .world import (
    BARE_METAL,
    CONTENT_FAULTS,
    INJECTABLE_FAULTS,
    PUBLIC_ISO_IMAGES,
    TRANSPORT_FAULTS,
    VIRTUAL,
    FaultRule,
    SoftLayerFault,
    World,
)

log = logging.getLogger("simulator")

_PATH = re.compile(r"^/xmlrpc/v3(?:\.1)?/(SoftLayer_[A-Za-z_]+)/?$")
ACCOUNT_ID = 1234567


class Call:
    """One decoded XML-RPC request."""

    def __init__(self, service: str, method: str, params: tuple):
        self.service, self.method = service, method
        first = params[0] if params and isinstance(params[0], dict) else {}
        self.headers: dict = first.get("headers", {}) if isinstance(first.get("headers"), dict) else {}
        self.args = params[1:] if first else params
        self.object_id = next(
            (v.get("id") for k, v in self.headers.items() if k.endswith("InitParameters") and isinstance(v, dict)),
            None,
        )
        self.mask = next((v.get("mask") for k, v in self.headers.items()
                          if k.endswith("ObjectMask") and isinstance(v, dict)), None)
        self.filter = next((v for k, v in self.headers.items() if k.endswith("ObjectFilter")), None)
        limit = self.headers.get("resultLimit") or {}
        self.limit = int(limit.get("limit") or 0) or None
        self.offset = int(limit.get("offset") or 0)


class Result:
    def __init__(self, value: Any, total: int | None = None):
        self.value, self.total = value, total


def _account_list(world: World, call: Call, kind: str, filter_key: str) -> Result:
    object_filter = (call.filter or {}).get(filter_key) if isinstance(call.filter, dict) else None
    page, total = world.list_devices(kind, object_filter, call.mask, call.offset, call.limit)
    return Result(page, total)


def _device_method(world: World, call: Call, kind: str) -> Result:
    if call.object_id is None:
        raise SoftLayerFault("SoftLayer_Exception_Public", f"{call.method} needs an object id (InitParameters).")
    with world.lock:
        device = world.device(kind, call.object_id)
        if call.method == "getObject":
            return Result(world.view(kind, device, call.mask))
        if call.method == "getPowerState" and kind == VIRTUAL:
            return Result(world.power_state(kind, device))
        if call.method == "getServerPowerState" and kind == BARE_METAL:
            return Result(world.power_state(kind, device))
        if (call.method, kind) in (("executeRescueLayer", VIRTUAL), ("bootToRescueLayer", BARE_METAL)):
            world.start(kind, call.object_id, "rescue")
            return Result(True)
        if call.method in ("rebootDefault", "rebootSoft", "rebootHard"):
            world.start(kind, call.object_id, "reboot")
            return Result(True)
        if kind == VIRTUAL and call.method == "mountIsoImage":
            image_id = call.args[0] if call.args else None
            try:
                image_id = int(image_id)
            except (TypeError, ValueError):
                raise SoftLayerFault("SoftLayer_Exception_InvalidValue",
                                     f"Invalid value provided for 'diskImageId': {image_id!r}") from None
            return Result(world.start(kind, call.object_id, "mount_iso", image_id))
        if kind == VIRTUAL and call.method == "unmountIsoImage":
            return Result(world.start(kind, call.object_id, "unmount_iso"))
        if kind == VIRTUAL and call.method == "getIsoBootImage":
            return Result(world.iso_boot_image(device))
        if call.method.startswith("get") and len(call.method) > 3:
            # Every relational property has a getter (getBlockDevices, getDatacenter, ...).
            prop = call.method[3].lower() + call.method[4:]
            view = world.view(kind, device, f"mask[{prop}]" if prop not in device or isinstance(
                device.get(prop), (dict, list)) else None)
            value = view.get(prop)
            if value is None:
                value = [] if prop.endswith("s") else {}
            return Result(value, len(value) if isinstance(value, list) else None)
    raise _no_method(call)


def _no_method(call: Call) -> SoftLayerFault:
    return SoftLayerFault("SoftLayer_Exception_Public",
                          f'Function ("{call.method}") is not a valid method for this service.')


def dispatch(world: World, call: Call) -> Result:
    service, method = call.service, call.method
    if service == "SoftLayer_Account":
        if method == "getObject":
            return Result({"id": ACCOUNT_ID, "companyName": "Example Rescue Co.", "email": "ops@example.com",
                           "firstName": "Demo", "lastName": "Owner", "country": "US", "brandId": 2})
        if method == "getCurrentUser":
            return Result({"id": 7654321, "accountId": ACCOUNT_ID, "username": world.username,
                           "firstName": "Demo", "lastName": "Owner", "email": "ops@example.com",
                           "userStatus": {"keyName": "ACTIVE", "name": "Active"}})
        lists = {"getVirtualGuests": (VIRTUAL, "virtualGuests"),
                 "getHourlyVirtualGuests": (VIRTUAL, "hourlyVirtualGuests"),
                 "getMonthlyVirtualGuests": (VIRTUAL, "monthlyVirtualGuests"),
                 "getHardware": (BARE_METAL, "hardware")}
        if method in lists:
            kind, key = lists[method]
            if method in ("getHourlyVirtualGuests", "getMonthlyVirtualGuests"):
                hourly = method == "getHourlyVirtualGuests"
                extra = {"hourlyBillingFlag": {"operation": 1 if hourly else 0}}
                call.filter = {key: {**((call.filter or {}).get(key) or {}), **extra}}
            return _account_list(world, call, kind, key)
        if method == "getVirtualGuestCount":
            return Result(len(world.inventory.guests))
        if method == "getHardwareCount":
            return Result(len(world.inventory.hardware))
    elif service == "SoftLayer_Virtual_Guest":
        return _device_method(world, call, VIRTUAL)
    elif service in ("SoftLayer_Hardware_Server", "SoftLayer_Hardware"):
        return _device_method(world, call, BARE_METAL)
    elif service == "SoftLayer_Virtual_Disk_Image" and method == "getPublicIsoImages":
        return Result([dict(image) for image in PUBLIC_ISO_IMAGES], len(PUBLIC_ISO_IMAGES))
    else:
        raise SoftLayerFault("SoftLayer_Exception_Public", f"Service does not exist ({service}).")
    raise _no_method(call)


class Handler(BaseHTTPRequestHandler):
    server_version = "SoftLayerSimulator/1.0"
    protocol_version = "HTTP/1.1"
    world: World  # set on the subclass built by make_server

    def log_message(self, fmt: str, *args) -> None:  # route to logging, quiet by default
        log.debug("%s " + fmt, self.address_string(), *args)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def do_GET(self) -> None:
        if self.path == "/control/stats":
            return self._json(200, self.world.stats())
        if self.path == "/":
            return self._send(200, b"SoftLayer API simulator: POST /xmlrpc/v3.1/SoftLayer_<Service>\n", "text/plain")
        self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        if self.path.startswith("/control/"):
            return self._control()
        match = _PATH.match(self.path)
        body = self._body()
        if not match:
            return self._send(404, b"Not Found", "text/plain")
        try:
            params, method = xmlrpc.client.loads(body.decode("utf-8"), use_builtin_types=True)
        except Exception as exc:  # a body that is not XML-RPC
            return self._fault("SoftLayer_Exception_WebService_BadRequest", f"Bad request: {exc}")
        call = Call(match.group(1), method or "", params)
        world = self.world
        if world.latency:
            time.sleep(world.latency)
        world.count(call.service, call.method)
        rule = world.take_fault(call.service, call.method)
        if rule and rule.fault in TRANSPORT_FAULTS:
            if rule.fault == "latency":
                time.sleep(rule.seconds)
            elif rule.fault == "reset":
                self.close_connection = True
                return self.connection.close()
            elif rule.fault.startswith("http_"):
                return self._send(int(rule.fault[5:]), b"Service Unavailable", "text/plain")
        try:
            world.authenticate(call.headers)
            world.admit()
            if rule and rule.fault in INJECTABLE_FAULTS:
                raise SoftLayerFault(*INJECTABLE_FAULTS[rule.fault])
            result = dispatch(world, call)
        except SoftLayerFault as fault:
            return self._fault(fault.code, fault.message)
        if rule and rule.fault == "lost_response":  # done at the provider; the answer never arrives
            self.close_connection = True
            return self.connection.close()
        if rule and rule.fault == "drop_row" and isinstance(result.value, list) and result.value:
            result = Result(result.value[1:], None if result.total is None else result.total - 1)
        payload = xmlrpc.client.dumps((result.value,), methodresponse=True, allow_none=True).encode("utf-8")
        extra = {"SoftLayer-Total-Items": str(result.total)} if result.total is not None else None
        self._send(200, payload, "text/xml", extra)

    def _fault(self, code: str, message: str) -> None:
        body = xmlrpc.client.dumps(xmlrpc.client.Fault(code, message), methodresponse=True).encode("utf-8")
        self._send(200, body, "text/xml")

    def _control(self) -> None:
        try:
            payload = json.loads(self._body() or b"{}")
        except json.JSONDecodeError:
            return self._json(400, {"error": "body must be JSON"})
        world = self.world
        try:
            if self.path == "/control/reset":
                world.reset_stats()
                return self._json(200, {"ok": True})
            if self.path == "/control/faults":
                if payload.get("clear"):  # the end of an outage
                    with world.lock:
                        world.fault_rules.clear()
                    return self._json(200, {"ok": True})
                fault = payload.get("fault")
                if fault not in INJECTABLE_FAULTS and fault not in TRANSPORT_FAULTS | CONTENT_FAULTS:
                    return self._json(400, {"error": f"unknown fault {fault!r}"})
                rule = FaultRule(fault=fault, method=payload.get("method", "*"), count=int(payload.get("count", 1)),
                                 seconds=float(payload.get("seconds", 0)))
                with world.lock:
                    world.fault_rules.append(rule)
                return self._json(200, {"ok": True})
            if self.path == "/control/devices":
                action, kind = payload.get("action"), payload.get("kind", VIRTUAL)
                if action == "add":
                    device = world.add_device(kind, payload.get("family", "linux"), bool(payload.get("small")))
                    return self._json(200, {"id": device["id"]})
                if action == "remove":
                    world.remove_device(kind, payload["id"])
                    return self._json(200, {"ok": True})
                if action == "update":
                    world.update_device(kind, payload["id"], dict(payload.get("changes", {})))
                    return self._json(200, {"ok": True})
                if action == "reboot_from_os":
                    world.reboot_from_os(kind, payload["id"])
                    return self._json(200, {"ok": True})
                return self._json(400, {"error": f"unknown action {action!r}"})
        except SoftLayerFault as fault:
            return self._json(404, {"error": fault.message})
        self._json(404, {"error": "not found"})


def make_server(world: World, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"world": world})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(world: World, port: int = 0) -> tuple[ThreadingHTTPServer, threading.Thread]:
    server = make_server(world, port=port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
