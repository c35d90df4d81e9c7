//! The lock family's hooks: pthread mutexes, condition variables, read-write
//! locks, barriers, spin locks, unnamed semaphores and `pthread_once`. The
//! table only; what each does is in `sync::pthread`.

use libc::{c_int, clockid_t, pthread_cond_t, pthread_mutex_t, pthread_rwlock_t, sem_t, timespec};

use crate::hooks::hooks;
use crate::sync::pthread;

hooks! {
    co fn pthread_mutex_lock(m: *mut pthread_mutex_t) -> c_int => pthread::on_mutex_lock;
    co fn pthread_mutex_timedlock(m: *mut pthread_mutex_t, abstime: *const timespec) -> c_int => pthread::on_mutex_timedlock;
    co fn pthread_mutex_clocklock(m: *mut pthread_mutex_t, clock: clockid_t, abstime: *const timespec) -> c_int => pthread::on_mutex_clocklock;
    any fn pthread_mutex_unlock(m: *mut pthread_mutex_t) -> c_int => pthread::on_mutex_unlock;
    any fn pthread_cond_wait(c: *mut pthread_cond_t, m: *mut pthread_mutex_t) -> c_int => pthread::on_cond_wait, cancel_locked;
    any fn pthread_cond_timedwait(c: *mut pthread_cond_t, m: *mut pthread_mutex_t, abstime: *const timespec) -> c_int => pthread::on_cond_timedwait, cancel_locked;
    any fn pthread_cond_clockwait(c: *mut pthread_cond_t, m: *mut pthread_mutex_t, clock: clockid_t, abstime: *const timespec) -> c_int => pthread::on_cond_clockwait, cancel_locked;
    any fn pthread_cond_signal(c: *mut pthread_cond_t) -> c_int => pthread::on_cond_signal;
    any fn pthread_cond_broadcast(c: *mut pthread_cond_t) -> c_int => pthread::on_cond_broadcast;
    co fn pthread_rwlock_rdlock(rw: *mut pthread_rwlock_t) -> c_int => pthread::on_rdlock;
    co fn pthread_rwlock_wrlock(rw: *mut pthread_rwlock_t) -> c_int => pthread::on_wrlock;
    co fn pthread_rwlock_timedrdlock(rw: *mut pthread_rwlock_t, abstime: *const timespec) -> c_int => pthread::on_timedrdlock;
    co fn pthread_rwlock_timedwrlock(rw: *mut pthread_rwlock_t, abstime: *const timespec) -> c_int => pthread::on_timedwrlock;
    co fn pthread_rwlock_clockrdlock(rw: *mut pthread_rwlock_t, clock: clockid_t, abstime: *const timespec) -> c_int => pthread::on_clockrdlock;
    co fn pthread_rwlock_clockwrlock(rw: *mut pthread_rwlock_t, clock: clockid_t, abstime: *const timespec) -> c_int => pthread::on_clockwrlock;
    any fn pthread_rwlock_unlock(rw: *mut pthread_rwlock_t) -> c_int => pthread::on_rwlock_unlock;
    co fn pthread_spin_lock(s: *mut libc::pthread_spinlock_t) -> c_int => pthread::on_spin_lock;
    co fn sem_wait(s: *mut sem_t) -> c_int => pthread::on_sem_wait, cancel;
    co fn sem_timedwait(s: *mut sem_t, abstime: *const timespec) -> c_int => pthread::on_sem_timedwait, cancel;
    co fn sem_clockwait(s: *mut sem_t, clock: clockid_t, abstime: *const timespec) -> c_int => pthread::on_sem_clockwait, cancel;
    any fn sem_post(s: *mut sem_t) -> c_int => pthread::on_sem_post;
    co_unwind fn pthread_once(once: *mut libc::pthread_once_t, init: Option<unsafe extern "C" fn()>) -> c_int => pthread::on_once;
    always fn pthread_barrier_init(b: *mut libc::pthread_barrier_t, attr: *const libc::pthread_barrierattr_t, count: libc::c_uint) -> c_int => pthread::on_barrier_init;
    always fn pthread_barrier_wait(b: *mut libc::pthread_barrier_t) -> c_int => pthread::on_barrier_wait;
    always fn pthread_barrier_destroy(b: *mut libc::pthread_barrier_t) -> c_int => pthread::on_barrier_destroy;
}
