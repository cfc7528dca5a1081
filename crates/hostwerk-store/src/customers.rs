//! Customers, their contracts, domains and mailboxes. Every read and write is scoped by `CustomerId`.

use chrono::NaiveDate;
use hostwerk_domain::{
    BillingPeriod, Cents, ContractStatus, CustomerNumber, DomainName, EmailAddress, Language, MailboxName,
    PostalAddress, ProcessLimit, SystemUser, TariffFamily, TariffId,
};
use sqlx::{Any, AnyConnection, Transaction};

use crate::{
    corrupt, get_i64, get_opt_str, get_str, now_ts, ts, Contract, Customer, CustomerCredentials, CustomerId,
    CustomerOverview, DataVersion, Domain, Mailbox, NewContract, NewCustomer, RowRead, Store, StoreError,
};

const CUSTOMER_COLUMNS: &str = "id, number, name, email, street, postal_code, city, country, language, created_at, \
     data_version, (SELECT version FROM content_version WHERE id = 1) AS content_version";

pub(crate) fn customer_from_row(r: &impl RowRead) -> Result<Customer, StoreError> {
    Ok(Customer {
        id: CustomerId(get_i64(r, "id")?),
        number: CustomerNumber::parse(&get_str(r, "number")?).map_err(|e| corrupt("customer number", e))?,
        name: get_str(r, "name")?,
        email: EmailAddress::parse(&get_str(r, "email")?).map_err(|e| corrupt("customer e-mail", e))?,
        address: PostalAddress {
            street: get_str(r, "street")?,
            postal_code: get_str(r, "postal_code")?,
            city: get_str(r, "city")?,
            country: get_str(r, "country")?,
        },
        language: Language::parse(&get_str(r, "language")?).unwrap_or_default(),
        created_at: ts(get_i64(r, "created_at")?),
        data_version: DataVersion { own: get_i64(r, "data_version")?, shared: get_i64(r, "content_version")? },
    })
}

fn date(r: &impl RowRead, col: &str) -> Result<NaiveDate, StoreError> {
    let s = get_str(r, col)?;
    s.parse::<NaiveDate>().map_err(|e| corrupt(col, e))
}

/// The part of a stored tariff definition a contract shows (reading only these skips the policies).
#[derive(serde::Deserialize)]
struct TariffHead {
    id: TariffId,
    name: String,
    family: TariffFamily,
}

pub(crate) fn contract_from_row(r: &impl RowRead) -> Result<Contract, StoreError> {
    let tariff: TariffHead =
        serde_json::from_str(&get_str(r, "definition")?).map_err(|e| corrupt("tariff definition", e))?;
    let months = u32::try_from(get_i64(r, "billing_months")?).map_err(|e| corrupt("billing period", e))?;
    Ok(Contract {
        id: get_i64(r, "id")?,
        customer_id: CustomerId(get_i64(r, "customer_id")?),
        seq: get_i64(r, "seq")?,
        tariff_id: tariff.id,
        tariff_name: tariff.name,
        family: tariff.family,
        monthly_price: Cents::new(get_i64(r, "monthly_price_cents")?),
        billing_period: BillingPeriod::from_months(months).map_err(|e| corrupt("billing period", e))?,
        start_date: date(r, "start_date")?,
        prepaid_until: date(r, "prepaid_until")?,
        minimum_term_months: get_i64(r, "minimum_term_months")?,
        notice_period_days: get_i64(r, "notice_period_days")?,
        status: ContractStatus::parse(&get_str(r, "status")?).map_err(|e| corrupt("contract status", e))?,
        end_date: get_opt_str(r, "end_date")?
            .map(|s| s.parse::<NaiveDate>().map_err(|e| corrupt("end date", e)))
            .transpose()?,
        node: get_opt_str(r, "node_name")?,
        system_user: SystemUser::parse(&get_str(r, "system_user")?)
            .ok_or_else(|| corrupt("system user", "not a valid user name"))?,
        webspace_path: get_str(r, "webspace_path")?,
        process_limit: ProcessLimit::parse(&get_str(r, "process_limit")?).map_err(|e| corrupt("process limit", e))?,
    })
}

pub(crate) const CONTRACT_SELECT: &str =
    "SELECT c.id, c.customer_id, c.seq, c.monthly_price_cents, c.billing_months, c.start_date, \
     c.prepaid_until, c.minimum_term_months, c.notice_period_days, c.status, c.end_date, c.system_user, \
     c.webspace_path, c.process_limit, t.definition, n.name AS node_name \
     FROM contracts c JOIN tariffs t ON t.id = c.tariff_id LEFT JOIN nodes n ON n.id = c.node_id";

impl Store {
    /// Creates a customer with a first contract; returns the new customer.
    pub async fn create_customer(&self, new: &NewCustomer, contract: &NewContract) -> Result<Customer, StoreError> {
        // Two orders at the same moment may draw the same number: the UNIQUE constraint refuses one, retry it.
        for _ in 0..5 {
            match self.try_create_customer(new, contract).await {
                Err(e) if e.is_unique_violation() && self.email_taken(&new.email).await? => {
                    return Err(StoreError::Conflict("an account with this e-mail address exists already".into()))
                }
                Err(e) if e.is_unique_violation() => continue,
                other => return other,
            }
        }
        Err(StoreError::Conflict("could not allocate a customer number, please try again".into()))
    }

    async fn email_taken(&self, email: &EmailAddress) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE email_norm = $1")
            .bind(email.normalized())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn try_create_customer(&self, new: &NewCustomer, contract: &NewContract) -> Result<Customer, StoreError> {
        let mut tx = self.write_tx().await?;
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(number_seq) FROM customers").fetch_one(&mut *tx).await?;
        let seq = max.map_or(i64::from(CustomerNumber::FIRST.sequence()), |m| m + 1);
        let number = u32::try_from(seq)
            .ok()
            .and_then(CustomerNumber::from_sequence)
            .ok_or_else(|| StoreError::Conflict("customer numbers are exhausted".into()))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO customers (number, number_seq, name, email, email_norm, street, postal_code, city, country, \
             language, password_hash, phone_password_hash, created_at, name_folded) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(number.to_string())
        .bind(seq)
        .bind(new.name.as_str())
        .bind(new.email.as_str())
        .bind(new.email.normalized())
        .bind(&new.address.street)
        .bind(&new.address.postal_code)
        .bind(&new.address.city)
        .bind(&new.address.country)
        .bind(new.language.code())
        .bind(&new.password_hash)
        .bind(&new.phone_password_hash)
        .bind(now_ts())
        .bind(crate::fold_name(new.name.as_str()))
        .fetch_one(&mut *tx)
        .await?;
        insert_contract(&mut tx, CustomerId(id), number, 1, contract).await?;
        tx.commit().await?;
        self.customer(CustomerId(id)).await
    }

    /// Adds another contract to an existing customer.
    pub async fn add_contract(&self, customer: CustomerId, contract: &NewContract) -> Result<i64, StoreError> {
        let mut tx = self.write_tx().await?;
        let number: String = sqlx::query_scalar("SELECT number FROM customers WHERE id = $1")
            .bind(customer.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let number = CustomerNumber::parse(&number).map_err(|e| corrupt("customer number", e))?;
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM contracts WHERE customer_id = $1")
            .bind(customer.0)
            .fetch_one(&mut *tx)
            .await?;
        let seq = max.unwrap_or(0) + 1;
        let id = insert_contract(&mut tx, customer, number, seq, contract).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn customer(&self, id: CustomerId) -> Result<Customer, StoreError> {
        let row = sqlx::query(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        customer_from_row(&row)
    }

    pub async fn customer_by_number(&self, number: CustomerNumber) -> Result<Customer, StoreError> {
        let row = sqlx::query(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE number = $1"))
            .bind(number.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        customer_from_row(&row)
    }

    /// The staff search: customers whose folded name contains `search.name_folded`, whose e-mail address is
    /// `search.email`, or who hold the domain `search.domain`, by number, at most `limit`. Number and name only.
    pub async fn search_customers(
        &self,
        search: &crate::CustomerSearch<'_>,
        limit: i64,
    ) -> Result<Vec<crate::CustomerHit>, StoreError> {
        // An unset alternative binds a value no row has (NULL never matches `=` or LIKE).
        let pattern = search.name_folded.map(|n| {
            let escaped = n.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        });
        let rows = sqlx::query(
            "SELECT number, name FROM customers WHERE name_folded LIKE $1 ESCAPE '\\' OR email_norm = $2 \
             OR id IN (SELECT customer_id FROM domains WHERE name = $3) ORDER BY number LIMIT $4",
        )
        .bind(pattern)
        .bind(search.email.map(|e| e.normalized()))
        .bind(search.domain.map(|d| d.as_str().to_owned()))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::CustomerHit {
                    number: CustomerNumber::parse(&get_str(r, "number")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    name: get_str(r, "name")?,
                })
            })
            .collect()
    }

    /// The customer whose address is `email`, if any (for mailing the owner instead of telling the asker).
    pub async fn customer_with_email(&self, email: &EmailAddress) -> Result<Option<Customer>, StoreError> {
        match self.customer_by_email(email).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn customer_by_email(&self, email: &EmailAddress) -> Result<Customer, StoreError> {
        let row = sqlx::query(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE email_norm = $1"))
            .bind(email.normalized())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        customer_from_row(&row)
    }

    /// Looks up login data by customer number or e-mail address.
    pub async fn customer_credentials(&self, login: &str) -> Result<CustomerCredentials, StoreError> {
        let row = if let Ok(number) = CustomerNumber::parse(login) {
            sqlx::query(
                "SELECT id, number, password_hash, failed_logins, locked_until FROM customers WHERE number = $1",
            )
            .bind(number.to_string())
            .fetch_optional(&self.pool)
            .await?
        } else if let Ok(email) = EmailAddress::parse(login) {
            sqlx::query(
                "SELECT id, number, password_hash, failed_logins, locked_until FROM customers WHERE email_norm = $1",
            )
            .bind(email.normalized())
            .fetch_optional(&self.pool)
            .await?
        } else {
            None
        };
        let row = row.ok_or(StoreError::NotFound)?;
        Ok(CustomerCredentials {
            id: CustomerId(get_i64(&row, "id")?),
            number: CustomerNumber::parse(&get_str(&row, "number")?).map_err(|e| corrupt("customer number", e))?,
            password_hash: get_str(&row, "password_hash")?,
            failed_logins: get_i64(&row, "failed_logins")?,
            locked_until: get_i64(&row, "locked_until")?,
        })
    }

    /// The stored hash of the customer-menu password.
    pub async fn customer_password_hash(&self, id: CustomerId) -> Result<String, StoreError> {
        sqlx::query_scalar("SELECT password_hash FROM customers WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Counts a failed login and sets the time before which no further attempt is evaluated.
    pub async fn customer_login_failed(&self, id: CustomerId, locked_until: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE customers SET failed_logins = failed_logins + 1, locked_until = $1 WHERE id = $2")
            .bind(locked_until)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn customer_login_succeeded(&self, id: CustomerId) -> Result<(), StoreError> {
        sqlx::query("UPDATE customers SET failed_logins = 0, locked_until = 0 WHERE id = $1")
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn update_customer_profile(
        &self,
        id: CustomerId,
        email: &EmailAddress,
        language: Language,
    ) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE customers SET email = $1, email_norm = $2, language = $3 WHERE id = $4")
            .bind(email.as_str())
            .bind(email.normalized())
            .bind(language.code())
            .bind(id.0)
            .execute(&self.pool)
            .await;
        match result {
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_unique_violation() {
                    Err(StoreError::Conflict("another account uses this e-mail address".into()))
                } else {
                    Err(e)
                }
            }
            Ok(r) if r.rows_affected() == 0 => Err(StoreError::NotFound),
            Ok(_) => Ok(()),
        }
    }

    pub async fn set_customer_password_hash(&self, id: CustomerId, hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE customers SET password_hash = $1, failed_logins = 0, locked_until = 0 WHERE id = $2")
            .bind(hash)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The customer's contracts, oldest first.
    pub async fn contracts(&self, customer: CustomerId) -> Result<Vec<Contract>, StoreError> {
        contracts_on(&mut *self.pool.acquire().await?, customer).await
    }

    /// Contracts, domains and mailboxes of a customer, read on one connection (the dashboard).
    pub async fn overview(&self, customer: CustomerId) -> Result<CustomerOverview, StoreError> {
        if let Some(inline) = &self.inline {
            match inline.overview(customer) {
                Ok(overview) => return Ok(overview),
                Err(e) => tracing::debug!(error = %e, "inline SQLite read failed; reading through the pool"),
            }
        }
        let mut conn = self.pool.acquire().await?;
        let contracts = contracts_on(&mut conn, customer).await?;
        let advisories = sqlx::query(crate::blog::OPEN_ADVISORIES_SELECT)
            .bind(customer.0)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(crate::blog::advisory_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CustomerOverview {
            advisories: crate::blog::for_contracts(advisories, &contracts),
            contracts,
            domains: domains_on(&mut conn, customer).await?,
            mailboxes: mailboxes_on(&mut conn, customer).await?,
            refunds: sqlx::query(crate::cases::REFUNDS_SELECT)
                .bind(customer.0)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(crate::cases::refund_from_row)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Whether a domain of that name is hosted here (for mail-client autoconfiguration, which answers for
    /// hosted domains only).
    pub async fn domain_hosted(&self, name: &DomainName) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM domains WHERE name = $1")
            .bind(name.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// One contract, only if it belongs to `customer`.
    pub async fn contract(&self, customer: CustomerId, contract_id: i64) -> Result<Contract, StoreError> {
        let row = sqlx::query(&format!("{CONTRACT_SELECT} WHERE c.customer_id = $1 AND c.id = $2"))
            .bind(customer.0)
            .bind(contract_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        contract_from_row(&row)
    }

    /// Registers a domain for one of the customer's contracts.
    pub async fn add_domain(
        &self,
        customer: CustomerId,
        contract_id: i64,
        name: &DomainName,
        auth_code: &str,
    ) -> Result<Domain, StoreError> {
        self.contract(customer, contract_id).await?;
        let result = sqlx::query_scalar::<_, i64>(
            "INSERT INTO domains (customer_id, contract_id, name, auth_code, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(customer.0)
        .bind(contract_id)
        .bind(name.as_str())
        .bind(auth_code)
        .bind(now_ts())
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(_) => self.domains(customer).await?.into_iter().find(|d| &d.name == name).ok_or(StoreError::NotFound),
            Err(e) if crate::error::is_unique(&e) => {
                Err(StoreError::Conflict(format!("the domain {name} is already registered")))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn domains(&self, customer: CustomerId) -> Result<Vec<Domain>, StoreError> {
        domains_on(&mut *self.pool.acquire().await?, customer).await
    }

    pub async fn mailboxes(&self, customer: CustomerId) -> Result<Vec<Mailbox>, StoreError> {
        mailboxes_on(&mut *self.pool.acquire().await?, customer).await
    }

    /// Creates `local@domain` on one of the customer's domains.
    pub async fn add_mailbox(
        &self,
        customer: CustomerId,
        domain_id: i64,
        local_part: &MailboxName,
    ) -> Result<Mailbox, StoreError> {
        let row = sqlx::query("SELECT contract_id, name FROM domains WHERE id = $1 AND customer_id = $2")
            .bind(domain_id)
            .bind(customer.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let contract_id = get_i64(&row, "contract_id")?;
        let domain = get_str(&row, "name")?;
        let domain = DomainName::parse(&domain).map_err(|e| corrupt("domain name", e))?;
        let address = local_part.at(&domain);
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO mailboxes (customer_id, contract_id, domain_id, address, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(customer.0)
        .bind(contract_id)
        .bind(domain_id)
        .bind(address.as_str())
        .bind(now_ts())
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok(id) => Ok(Mailbox { id, contract_id, domain_id, address, created_at: chrono::Utc::now() }),
            Err(e) if crate::error::is_unique(&e) => {
                Err(StoreError::Conflict(format!("the mailbox {address} exists already")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a mailbox if it belongs to `customer`; returns its address.
    pub async fn delete_mailbox(&self, customer: CustomerId, mailbox_id: i64) -> Result<String, StoreError> {
        let address: Option<String> =
            sqlx::query_scalar("DELETE FROM mailboxes WHERE id = $1 AND customer_id = $2 RETURNING address")
                .bind(mailbox_id)
                .bind(customer.0)
                .fetch_optional(&self.pool)
                .await?;
        address.ok_or(StoreError::NotFound)
    }

    /// Number of customers (for the staff overview and metrics).
    pub async fn customer_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM customers").fetch_one(&self.pool).await?)
    }
}

async fn insert_contract(
    tx: &mut Transaction<'static, Any>,
    customer: CustomerId,
    number: CustomerNumber,
    seq: i64,
    c: &NewContract,
) -> Result<i64, StoreError> {
    let seq_u32 = u32::try_from(seq).map_err(|e| corrupt("contract sequence", e))?;
    let user = SystemUser::for_contract(number, seq_u32);
    let node: Option<i64> = sqlx::query_scalar(
        "SELECT n.id FROM nodes n WHERE n.role = 'webserver' \
         ORDER BY (SELECT COUNT(*) FROM contracts c WHERE c.node_id = n.id), n.id LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?;
    let webspace = format!("{}/{}", c.webspace_root.trim_end_matches('/'), user);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contracts (customer_id, seq, tariff_id, monthly_price_cents, billing_months, start_date, \
         prepaid_until, minimum_term_months, notice_period_days, status, node_id, system_user, webspace_path, \
         process_limit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(customer.0)
    .bind(seq)
    .bind(c.tariff.id.as_str())
    .bind(c.tariff.monthly_price.get())
    .bind(i64::from(c.period.months()))
    .bind(c.start.to_string())
    .bind(c.period.period_end(c.start).to_string())
    .bind(i64::from(c.tariff.minimum_term_months))
    .bind(i64::from(c.tariff.notice_period_days))
    .bind(ContractStatus::Active.as_str())
    .bind(node)
    .bind(user.as_str())
    .bind(webspace)
    .bind(c.tariff.process_limit.default.to_string())
    .bind(now_ts())
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

async fn contracts_on(conn: &mut AnyConnection, customer: CustomerId) -> Result<Vec<Contract>, StoreError> {
    let rows = sqlx::query(&format!("{CONTRACT_SELECT} WHERE c.customer_id = $1 ORDER BY c.seq"))
        .bind(customer.0)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(contract_from_row).collect()
}

async fn domains_on(conn: &mut AnyConnection, customer: CustomerId) -> Result<Vec<Domain>, StoreError> {
    let rows = sqlx::query(DOMAINS_SELECT).bind(customer.0).fetch_all(&mut *conn).await?;
    rows.iter().map(domain_from_row).collect()
}

pub(crate) const DOMAINS_SELECT: &str =
    "SELECT id, contract_id, name, created_at FROM domains WHERE customer_id = $1 ORDER BY name";

pub(crate) fn domain_from_row(r: &impl RowRead) -> Result<Domain, StoreError> {
    Ok(Domain {
        id: get_i64(r, "id")?,
        contract_id: get_i64(r, "contract_id")?,
        name: DomainName::parse(&get_str(r, "name")?).map_err(|e| corrupt("domain", e))?,
        created_at: ts(get_i64(r, "created_at")?),
    })
}

async fn mailboxes_on(conn: &mut AnyConnection, customer: CustomerId) -> Result<Vec<Mailbox>, StoreError> {
    let rows = sqlx::query(MAILBOXES_SELECT).bind(customer.0).fetch_all(&mut *conn).await?;
    rows.iter().map(mailbox_from_row).collect()
}

pub(crate) const MAILBOXES_SELECT: &str =
    "SELECT id, contract_id, domain_id, address, created_at FROM mailboxes WHERE customer_id = $1 ORDER BY address";

pub(crate) fn mailbox_from_row(r: &impl RowRead) -> Result<Mailbox, StoreError> {
    Ok(Mailbox {
        id: get_i64(r, "id")?,
        contract_id: get_i64(r, "contract_id")?,
        domain_id: get_i64(r, "domain_id")?,
        address: EmailAddress::parse(&get_str(r, "address")?).map_err(|e| corrupt("mailbox", e))?,
        created_at: ts(get_i64(r, "created_at")?),
    })
}
