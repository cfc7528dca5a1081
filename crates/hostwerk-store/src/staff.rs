//! Staff accounts of the provider.

use hostwerk_domain::{StaffLogin, StaffRole};
use sqlx::any::AnyRow;

use crate::{get_i64, get_str, now_ts, ts, StaffCredentials, StaffId, StaffUser, Store, StoreError};

fn staff_from_row(r: &AnyRow) -> Result<StaffUser, StoreError> {
    Ok(StaffUser {
        id: StaffId(get_i64(r, "id")?),
        login: StaffLogin::parse(&get_str(r, "login")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        display_name: get_str(r, "display_name")?,
        role: StaffRole::parse(&get_str(r, "role")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        active: get_i64(r, "active")? != 0,
        second_factor: get_i64(r, "second_factors")? > 0,
        created_at: ts(get_i64(r, "created_at")?),
    })
}

const STAFF_COLUMNS: &str = "id, login, display_name, role, active, created_at, \
    (SELECT COUNT(*) FROM second_factors f WHERE f.kind = 'staff' AND f.subject_id = staff_users.id \
     AND f.enrolled_at IS NOT NULL) AS second_factors";

impl Store {
    /// Creates a staff account; fails with `Conflict` when the login exists.
    pub async fn create_staff(
        &self,
        login: &StaffLogin,
        display_name: &str,
        role: StaffRole,
        password_hash: &str,
    ) -> Result<StaffUser, StoreError> {
        let result = sqlx::query_scalar::<_, i64>(
            "INSERT INTO staff_users (login, display_name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(login.as_str())
        .bind(display_name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now_ts())
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(id) => self.staff(StaffId(id)).await,
            Err(e) if crate::error::is_unique(&e) => {
                Err(StoreError::Conflict(format!("the login {login} exists already")))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn staff(&self, id: StaffId) -> Result<StaffUser, StoreError> {
        let row = sqlx::query(&format!("SELECT {STAFF_COLUMNS} FROM staff_users WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        staff_from_row(&row)
    }

    pub async fn staff_by_login(&self, login: &StaffLogin) -> Result<StaffUser, StoreError> {
        let row = sqlx::query(&format!("SELECT {STAFF_COLUMNS} FROM staff_users WHERE login = $1"))
            .bind(login.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        staff_from_row(&row)
    }

    pub async fn list_staff(&self) -> Result<Vec<StaffUser>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {STAFF_COLUMNS} FROM staff_users ORDER BY login"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(staff_from_row).collect()
    }

    pub async fn staff_credentials(&self, login: &StaffLogin) -> Result<StaffCredentials, StoreError> {
        let row = sqlx::query(
            "SELECT id, password_hash, active, failed_logins, locked_until FROM staff_users WHERE login = $1",
        )
        .bind(login.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(StaffCredentials {
            id: StaffId(get_i64(&row, "id")?),
            password_hash: get_str(&row, "password_hash")?,
            active: get_i64(&row, "active")? != 0,
            failed_logins: get_i64(&row, "failed_logins")?,
            locked_until: get_i64(&row, "locked_until")?,
        })
    }

    pub async fn staff_login_failed(&self, id: StaffId, locked_until: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff_users SET failed_logins = failed_logins + 1, locked_until = $1 WHERE id = $2")
            .bind(locked_until)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn staff_login_succeeded(&self, id: StaffId) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff_users SET failed_logins = 0, locked_until = 0 WHERE id = $1")
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Enables or disables a staff account. Disabling also ends its sessions and API tokens.
    pub async fn set_staff_active(&self, id: StaffId, active: bool) -> Result<(), StoreError> {
        let r = sqlx::query("UPDATE staff_users SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if !active {
            self.end_all_sessions(crate::Subject::Staff(id)).await?;
        }
        Ok(())
    }

    pub async fn set_staff_password_hash(&self, id: StaffId, hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff_users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An admin's reset of a staff member's password: the new hash, the lock-out cleared, and every session and
    /// API token of the account ended, so only the new password opens it.
    pub async fn reset_staff_password(&self, id: StaffId, hash: &str) -> Result<(), StoreError> {
        let r =
            sqlx::query("UPDATE staff_users SET password_hash = $1, failed_logins = 0, locked_until = 0 WHERE id = $2")
                .bind(hash)
                .bind(id.0)
                .execute(&self.pool)
                .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.end_all_sessions(crate::Subject::Staff(id)).await?;
        Ok(())
    }

    /// Changes a staff member's role. Taking the admin role from the last active admin is `LastAdmin`: the
    /// check and the change are one conditional statement, so two admins demoting each other at once cannot
    /// both succeed.
    pub async fn set_staff_role(&self, id: StaffId, role: StaffRole) -> Result<(), StoreError> {
        let admin = StaffRole::Admin.as_str();
        let r = sqlx::query(
            "UPDATE staff_users SET role = $1 WHERE id = $2 AND ($1 = $3 OR role <> $3 OR active = 0 \
             OR (SELECT COUNT(*) FROM staff_users o WHERE o.role = $3 AND o.active = 1 AND o.id <> $2) > 0)",
        )
        .bind(role.as_str())
        .bind(id.0)
        .bind(admin)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            self.staff(id).await?;
            return Err(StoreError::LastAdmin);
        }
        Ok(())
    }
}
