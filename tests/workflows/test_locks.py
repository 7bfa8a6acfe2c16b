"""The submit lock: kept from a live holder, taken over from a dead one on this host, and a
holder that lost it (its TTL ran out) learns so before it submits."""

import socket
import subprocess
import sys

import django_rq

from workflows.locks import SubmitLock


def connection():
    return django_rq.get_queue("default").connection


def _reaped() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_live_holder_keeps_the_lock():
    first, second = SubmitLock(connection(), 1, ttl=30), SubmitLock(connection(), 1, ttl=30)
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire()


def test_a_dead_holder_on_this_host_loses_it_at_once():
    connection().set("rescueportal:workflows:submit:2", f"{socket.gethostname()}:{_reaped()}:gone", ex=30)
    assert SubmitLock(connection(), 2, ttl=30).acquire()


def test_a_holder_on_another_host_keeps_it_until_its_ttl():
    connection().set("rescueportal:workflows:submit:3", "elsewhere:1:alive", ex=30)
    assert not SubmitLock(connection(), 3, ttl=30).acquire()


def test_a_holder_whose_lock_expired_and_was_taken_does_not_submit():
    first = SubmitLock(connection(), 4, ttl=30)
    assert first.acquire() and first.refresh()
    connection().delete(first.key)  # as if its TTL ran out during a slow read
    second = SubmitLock(connection(), 4, ttl=30)
    assert second.acquire()
    assert not first.refresh()  # so it returns without submitting
    first.release()  # and cannot release the other's lock either
    assert connection().get(second.key).decode() == second.token
