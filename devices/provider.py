"""The provider gateway: the only module that uses the `SoftLayer` client.

It points the client at SOFTLAYER_ENDPOINT_URL (the simulator by default, the real API in
production), sets a timeout (the client has none by default), keeps under the API's rate limit,
retries transient faults with backoff (the client retries nothing over http://, and never a
rate-limit fault), and turns the client's errors into a few typed ones the rest of the portal
can act on. Nothing here writes to the database.
"""

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import SoftLayer
from django.conf import settings
from redis.exceptions import RedisError
from SoftLayer.exceptions import SoftLayerAPIError, TransportError

log = logging.getLogger(__name__)

VIRTUAL, BARE_METAL = "virtual", "bare_metal"


class ProviderError(Exception):
    """A provider failure, with a message a person can act on."""

    transient = False

    def __init__(self, message: str, fault_code: str = ""):
        super().__init__(message)
        self.message = message
        self.fault_code = fault_code


class DeviceNotFound(ProviderError):
    """The device does not exist at the provider, or the API user may not see it (same answer)."""


class ProviderAccessDenied(ProviderError):
    """The portal's API credentials were refused."""


class DeviceBusy(ProviderError):
    """The device has an outstanding transaction; the provider accepts no other."""


class RateLimited(ProviderError):
    transient = True


class ProviderUnavailable(ProviderError):
    """Transport errors, HTTP 5xx, timeouts: the request may not have reached the provider."""

    transient = True


def translate(exc: Exception) -> ProviderError:
    if isinstance(exc, TransportError):
        return ProviderUnavailable(
            f"The SoftLayer API could not be reached ({exc.faultString}). Try again in a few minutes.",
            str(exc.faultCode),
        )
    if isinstance(exc, SoftLayerAPIError):
        code, text = str(exc.faultCode), str(exc.faultString)
        if code == "SoftLayer_Exception_ObjectNotFound":
            return DeviceNotFound(f"SoftLayer does not know this device: {text}", code)
        if code == "SoftLayer_Exception_WebService_RateLimitExceeded":
            return RateLimited(f"SoftLayer's rate limit was reached: {text}", code)
        if "outstanding transaction" in text:
            return DeviceBusy(
                "SoftLayer is already running a transaction on this device; wait for it to finish.", code
            )
        if text.strip() == "Access Denied.":
            return ProviderAccessDenied(
                "SoftLayer refused the portal's API credentials; check SOFTLAYER_USERNAME and SOFTLAYER_API_KEY.",
                code,
            )
        if code.startswith("SOAP-ENV:Server") or text.strip() == "Internal Error":
            return ProviderUnavailable(f"SoftLayer answered with an internal error: {text}", code)
        return ProviderError(f"SoftLayer refused the request: {text}", code)
    return ProviderUnavailable(f"Unexpected error talking to SoftLayer: {exc}")


class RateLimiter:
    """Keeps every process of the portal together under SOFTLAYER_MAX_REQUESTS_PER_SECOND.

    SoftLayer counts requests per API user, not per process, so the pace is kept in Redis: one
    "next request at" time (the generic cell rate algorithm), checked and moved in one Lua script on
    Redis's clock. Requests are spaced 1/rate apart with a burst of at most BURST, so no second
    ever holds more than rate + BURST of them, however many threads and processes ask at once
    (a window count would let a whole second's budget go at once, and a little delay on the way
    could bring two of those into one of SoftLayer's seconds). If Redis cannot be reached the
    process falls back to spacing its own requests.
    """

    KEY = "rescueportal:softlayer:next-request-at"
    BURST = 4
    SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due < now then due = now end
local allowed_at = due - burst
if allowed_at > now then
  return allowed_at - now
end
redis.call('SET', KEYS[1], due + interval, 'PX', math.floor((due + interval - now) / 1000) + 2000)
return 0
"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0
        self._script = None

    def wait(self) -> None:
        rate = settings.SOFTLAYER_MAX_REQUESTS_PER_SECOND
        try:
            self._wait_shared(rate)
        except (RedisError, OSError):
            self._wait_local(rate)

    def _wait_shared(self, rate: float) -> None:
        if self._script is None:
            import django_rq

            self._script = django_rq.get_connection("default").register_script(self.SCRIPT)
        interval = int(1_000_000 / rate)
        while True:
            wait_us = int(self._script(keys=[self.KEY], args=[interval, interval * (self.BURST - 1)]))
            if wait_us <= 0:
                return
            time.sleep(wait_us / 1_000_000)

    def _wait_local(self, rate: float) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + 1.0 / rate
        if start > now:
            time.sleep(start - now)


rate_limiter = RateLimiter()

# Who wants to know about each call and each wait for the rate budget (the metrics register here;
# devices imports nothing above it). An observer's failure never fails a call.
CallObserver = Callable[[str, float, str], None]  # ("Service::method", seconds, "ok" or the fault)
WaitObserver = Callable[[float], None]  # seconds waited
_call_observers: list[CallObserver] = []
_wait_observers: list[WaitObserver] = []


def observe(on_call: CallObserver, on_wait: WaitObserver) -> None:
    _call_observers.append(on_call)
    _wait_observers.append(on_wait)


def _tell(observers: list, *args) -> None:
    for observer in observers:
        try:
            observer(*args)
        except Exception:
            log.debug("observer %r failed", observer, exc_info=True)

GUEST_MASK = (
    "mask[id,hostname,domain,fullyQualifiedDomainName,primaryIpAddress,primaryBackendIpAddress,"
    "maxMemory,maxCpu,provisionDate,datacenter[name,longName],powerState[keyName],"
    "operatingSystem[softwareLicense[softwareDescription[name,version,referenceCode]]],"
    "activeTransaction[transactionStatus[friendlyName]]]"
)
HARDWARE_MASK = (
    "mask[id,hostname,domain,fullyQualifiedDomainName,primaryIpAddress,primaryBackendIpAddress,"
    "memoryCapacity,processorPhysicalCoreAmount,provisionDate,datacenter[name,longName],"
    "operatingSystem[softwareLicense[softwareDescription[name,version,referenceCode]]],"
    "activeTransaction[transactionStatus[friendlyName]]]"
)
_LISTS = {VIRTUAL: ("getVirtualGuests", "virtualGuests", GUEST_MASK),
          BARE_METAL: ("getHardware", "hardware", HARDWARE_MASK)}
_SERVICES = {VIRTUAL: "Virtual_Guest", BARE_METAL: "Hardware_Server"}


class Gateway:
    """One conversation with the provider; `calls` counts the API requests it made.

    `interactive=True` is for reads made while a person waits for a page: a short timeout and one
    retry, so that an outage shows as a message within seconds instead of a page that hangs.
    """

    def __init__(self, client: Any = None, interactive: bool = False):
        self.interactive = interactive
        timeout = settings.SOFTLAYER_TIMEOUT
        if interactive:
            timeout = min(timeout, settings.SOFTLAYER_PAGE_TIMEOUT)
        self._timeout = timeout
        self._own_client = client is None
        self.client = client or self._new_client()
        self.calls = 0
        self._count = threading.Lock()
        self._owner_thread, self._locals = threading.get_ident(), threading.local()

    def _thread_client(self):
        """The gateway's client in the thread that made it, a client of its own in any other (an
        HTTP session is not shared between threads)."""
        if threading.get_ident() == self._owner_thread:
            return self.client
        local = self._locals
        if not hasattr(local, "client"):
            local.client = self._new_client()
        return local.client

    def _new_client(self):
        if not self._own_client:
            return self.client  # a client given by the caller is the one to use
        return SoftLayer.create_client_from_env(
            username=settings.SOFTLAYER_USERNAME,
            api_key=settings.SOFTLAYER_API_KEY,
            endpoint_url=settings.SOFTLAYER_ENDPOINT_URL,
            timeout=self._timeout,
        )

    def call(self, service: str, method: str, *args, retry: bool = True, client=None, **kwargs):
        """Call with throttling and (for reads) retries of transient faults; raises ProviderError."""
        attempts = max(1, settings.SOFTLAYER_RETRY_ATTEMPTS) if retry else 1
        if self.interactive:
            attempts = min(attempts, 2)
        name = f"{service}::{method}"
        for attempt in range(1, attempts + 1):
            waited = time.monotonic()
            rate_limiter.wait()
            started = time.monotonic()
            if started - waited > 0.001:
                _tell(_wait_observers, started - waited)
            with self._count:
                self.calls += 1
            try:
                answer = (client or self.client).call(service, method, *args, **kwargs)
                _tell(_call_observers, name, time.monotonic() - started, "ok")
                return answer
            except (SoftLayerAPIError, TransportError) as exc:
                error = translate(exc)
                _tell(_call_observers, name, time.monotonic() - started, type(error).__name__)
                if not error.transient or attempt == attempts:
                    raise error from exc
            delay = settings.SOFTLAYER_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1)
            time.sleep(delay * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def iter_devices(self, kind: str, page_size: int | None = None) -> Iterator[dict]:
        """Every device of a kind, ordered by id. The first page's total header says how many pages
        follow; those are fetched SOFTLAYER_PARALLEL_PAGES at a time (each request still waits its
        turn in the shared rate limit), and yielded in order."""
        method, filter_key, mask = _LISTS[kind]
        limit = page_size or settings.SOFTLAYER_PAGE_SIZE
        order = {filter_key: {"id": {"operation": "orderBy", "options": [{"name": "sort", "value": ["ASC"]}]}}}

        def page_at(offset: int, client=None):
            return self.call("Account", method, mask=mask, filter=order, limit=limit, offset=offset, client=client)

        first = page_at(0, self._thread_client())
        yield from first
        total = getattr(first, "total_count", 0)
        if not first or len(first) < limit or len(first) >= total:
            return
        offsets = list(range(len(first), total, limit))
        workers = max(1, min(settings.SOFTLAYER_PARALLEL_PAGES, len(offsets)))
        if workers == 1:
            for offset in offsets:
                yield from page_at(offset, self._thread_client())
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="softlayer-page") as pool:
            for page in pool.map(lambda offset: page_at(offset, self._thread_client()), offsets):
                yield from page

    def get_device(self, kind: str, provider_id: int, mask: str | None = None) -> dict:
        return self.call(_SERVICES[kind], "getObject", id=provider_id,
                         mask=mask or (GUEST_MASK if kind == VIRTUAL else HARDWARE_MASK))

    def power_state(self, kind: str, provider_id: int) -> str:
        """'on' or 'off', read live (bare metal has no power state in the list call)."""
        if kind == VIRTUAL:
            state = self.call("Virtual_Guest", "getPowerState", id=provider_id)
            return "on" if state.get("keyName") == "RUNNING" else "off"
        return "on" if self.call("Hardware_Server", "getServerPowerState", id=provider_id) == "on" else "off"

    def public_iso_images(self) -> list[dict]:
        return list(self.call("Virtual_Disk_Image", "getPublicIsoImages"))


PROGRESS_MASK = (
    "mask[id,powerState[keyName],lastTransaction[id,createDate],"
    "activeTransaction[id,createDate,elapsedSeconds,transactionStatus[name,friendlyName,averageDuration],"
    "transactionGroup[name,averageTimeToComplete]]]"
)
HARDWARE_PROGRESS_MASK = (
    "mask[id,lastTransaction[id,createDate],"
    "activeTransaction[id,createDate,elapsedSeconds,transactionStatus[name,friendlyName,averageDuration],"
    "transactionGroup[name,averageTimeToComplete]]]"
)


def _submit(gateway: "Gateway", service: str, method: str, *args, **kwargs):
    """A state-changing call: never retried here, because the provider has no idempotency keys.
    The caller reads the device's state before trying again."""
    return gateway.call(service, method, *args, retry=False, **kwargs)


def rescue(gateway: "Gateway", kind: str, provider_id: int) -> None:
    if kind == VIRTUAL:
        _submit(gateway, "Virtual_Guest", "executeRescueLayer", id=provider_id)
    else:
        _submit(gateway, "Hardware_Server", "bootToRescueLayer", id=provider_id)


def mount_iso(gateway: "Gateway", provider_id: int, disk_image_id: int) -> dict:
    return _submit(gateway, "Virtual_Guest", "mountIsoImage", disk_image_id, id=provider_id)


def unmount_iso(gateway: "Gateway", provider_id: int) -> dict:
    return _submit(gateway, "Virtual_Guest", "unmountIsoImage", id=provider_id)


def reboot(gateway: "Gateway", kind: str, provider_id: int) -> None:
    _submit(gateway, _SERVICES[kind], "rebootDefault", id=provider_id)


def progress(gateway: "Gateway", kind: str, provider_ids: list[int]) -> dict[int, dict]:
    """Transaction and power state of many devices of one kind in one API call (an id filter)."""
    method, filter_key, _ = _LISTS[kind]
    found: dict[int, dict] = {}
    for start in range(0, len(provider_ids), 500):
        chunk = provider_ids[start:start + 500]
        rows = gateway.call("Account", method, filter={filter_key: {"id": {
            "operation": "in", "options": [{"name": "data", "value": chunk}]}}},
            mask=PROGRESS_MASK if kind == VIRTUAL else HARDWARE_PROGRESS_MASK)
        found.update({int(row["id"]): row for row in rows})
    return found


def progress_of_one(gateway: "Gateway", kind: str, provider_id: int) -> dict:
    """The same view as `progress` for one device, read directly: DeviceNotFound means SoftLayer
    itself says it does not exist (a row missing from a list says nothing of the kind)."""
    return gateway.get_device(kind, provider_id, mask=PROGRESS_MASK if kind == VIRTUAL else HARDWARE_PROGRESS_MASK)


def passwords(gateway: "Gateway", kind: str, provider_id: int) -> list[dict]:
    """The device's OS credentials, read live for one reveal; never stored."""
    device = gateway.get_device(kind, provider_id, mask="mask[id,operatingSystem[passwords[username,password]]]")
    return list((device.get("operatingSystem") or {}).get("passwords") or [])
