//! The store's write thread: every write batch is built and committed on one thread.
//!
//! Writes are serialised by the store's write lock anyway, so a thread of their own costs no
//! parallelism; what it changes is who allocates the memtables. Each memtable entry is
//! allocated by the thread that builds and commits its batch, and the allocator keeps freed
//! memory with the thread that allocated it. When writes ran on the blocking pool, every pool
//! thread held a share of the memtables' pages, and pages freed by a flush stayed with threads
//! that might not allocate again for a while. On one thread, a flushed memtable's pages are
//! reused by the next one. At 3 M statements the ingest's peak RSS fell from 320 MB to 272–295
//! MB (docs/performance.md, sixth pass), at the same rate.
//!
//! Reads, attachment chunks and blob chunks stay on the blocking pool: they take no write lock,
//! and a large chunk should not hold up the writes queued behind it.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

pub(super) struct Writer {
    /// `None` once the writer is stopping.
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread.
    pub(super) fn start() -> std::io::Result<Writer> {
        let (jobs, queue) = channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("store-write".into())
            .spawn(move || {
                for job in queue {
                    job();
                }
            })?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the write thread, after the writes queued before it, and returns its
    /// result. A panic in `f` is raised again in the caller; the thread goes on.
    pub(super) async fn run<T, F>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, Box<dyn Any + Send>>>();
        let job: Job = Box::new(move || {
            // The caller may have gone away (its request was cancelled): nobody to tell.
            let _ = reply.send(std::panic::catch_unwind(AssertUnwindSafe(f)));
        });
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        assert!(sent, "the store's write thread has stopped");
        match answer.await {
            Ok(Ok(value)) => value,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // The job was dropped unrun: only when the thread itself died.
            Err(_) => panic!("the store's write thread has stopped"),
        }
    }
}

impl Drop for Writer {
    /// Runs the writes already queued, then stops the thread and waits for it.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the store's write thread panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn jobs_run_in_order_on_one_named_thread() {
        let writer = Arc::new(Writer::start().expect("start"));
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (writer, next) = (writer.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                writer
                    .run(move || {
                        let turn = next.fetch_add(1, Ordering::SeqCst);
                        (turn, std::thread::current().name().map(str::to_owned))
                    })
                    .await
            }));
        }
        let mut turns = Vec::new();
        for task in tasks {
            let (turn, thread) = task.await.expect("task");
            assert_eq!(thread.as_deref(), Some("store-write"));
            turns.push(turn);
        }
        turns.sort_unstable();
        assert_eq!(turns, (0..50).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_panic_reaches_the_caller_and_the_thread_goes_on() {
        let writer = Arc::new(Writer::start().expect("start"));
        let failing = tokio::spawn({
            let writer = writer.clone();
            async move { writer.run(|| panic!("a failing write")).await }
        });
        let error = failing.await.expect_err("the panic is raised again");
        assert!(error.is_panic());
        assert_eq!(writer.run(|| 7).await, 7);
    }

    #[tokio::test]
    async fn dropping_runs_what_is_queued_first() {
        let writer = Writer::start().expect("start");
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let done = done.clone();
            let job: Job = Box::new(move || {
                std::thread::sleep(std::time::Duration::from_millis(2));
                done.fetch_add(1, Ordering::SeqCst);
            });
            writer.jobs.as_ref().expect("open").send(job).expect("send");
        }
        drop(writer);
        assert_eq!(done.load(Ordering::SeqCst), 10);
    }
}
