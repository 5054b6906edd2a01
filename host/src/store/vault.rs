//! The store as the Zoho token cache's [`TokenVault`]: sealed access tokens in the table
//! `zoho_tokens`, in SQLite or PostgreSQL.
//!
//! With PostgreSQL the replicas of a fleet share one token per credential: a replica that
//! needs a new one takes the credential's advisory lock, reads again what is stored (another
//! replica may just have refreshed), and refreshes only when that is not good either. So a
//! fleet spends Zoho's refresh allowance (about ten per ten minutes per refresh token) as one
//! process would. SQLite's store belongs to one host, where the cache's own single flight does
//! the same.

use crate::zoho_token::{Sealed, TokenVault, VaultFuture, VaultLock};

use super::{Conn, Store, StoreError};

/// Sealed Zoho access tokens in a [`Store`], under a profile (the CLI's config profile, or the
/// server's) whose uninstall deletes them.
#[derive(Clone, Debug)]
pub struct StoreVault {
    store: Store,
    profile: String,
}

impl StoreVault {
    /// The vault in `store`, for `profile`.
    #[must_use]
    pub fn new(store: Store, profile: &str) -> Self {
        Self {
            store,
            profile: profile.to_owned(),
        }
    }
}

/// A vault failure costs a refresh at worst: logged (without the token), then ignored.
fn logged<T>(what: &str, r: Result<T, StoreError>) -> Option<T> {
    r.map_err(|e| tracing::debug!(error = %e, "token cache: cannot {what}"))
        .ok()
}

impl TokenVault for StoreVault {
    fn load<'a>(&'a self, id: &'a str) -> VaultFuture<'a, Option<Sealed>> {
        Box::pin(async move {
            let found = async { self.store.conn().await?.token_load(id).await }.await;
            logged("read", found).flatten()
        })
    }

    fn save<'a>(&'a self, id: &'a str, sealed: &'a [u8], expires_ms: i64) -> VaultFuture<'a, ()> {
        Box::pin(async move {
            let saved = async {
                let mut c = self.store.conn().await?;
                c.token_save(id, &self.profile, sealed, expires_ms).await
            }
            .await;
            logged("write", saved);
        })
    }

    fn forget<'a>(&'a self, id: &'a str) -> VaultFuture<'a, ()> {
        Box::pin(async move {
            let gone = async { self.store.conn().await?.token_forget(id).await }.await;
            logged("delete", gone);
        })
    }

    fn lock<'a>(&'a self, id: &'a str) -> VaultFuture<'a, Option<Box<dyn VaultLock>>> {
        Box::pin(async move {
            // Only PostgreSQL has advisory locks; one SQLite file serves one host.
            self.store.postgres_pool()?;
            let locked = async {
                let mut tx = self.store.begin().await?;
                tx.lock_token(id).await?;
                Ok::<_, StoreError>(tx)
            }
            .await;
            let tx = logged("lock", locked)?;
            Some(Box::new(Locked {
                tx,
                id: id.to_owned(),
                profile: self.profile.clone(),
            }) as Box<dyn VaultLock>)
        })
    }
}

/// A credential's refresh lock: a PostgreSQL transaction holding its advisory lock.
struct Locked {
    tx: Conn,
    id: String,
    profile: String,
}

impl VaultLock for Locked {
    fn load(&mut self) -> VaultFuture<'_, Option<Sealed>> {
        Box::pin(async move { logged("read", self.tx.token_load(&self.id).await).flatten() })
    }

    fn save(self: Box<Self>, sealed: Vec<u8>, expires_ms: i64) -> VaultFuture<'static, ()> {
        Box::pin(async move {
            let Locked {
                mut tx,
                id,
                profile,
            } = *self;
            let saved = async {
                tx.token_save(&id, &profile, &sealed, expires_ms).await?;
                tx.commit().await
            }
            .await;
            logged("write", saved);
        })
    }
}
