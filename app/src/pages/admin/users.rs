use super::{AdminFrame, BUTTON, INPUT, SMALL_BUTTON};
use crate::api::admin::list_users;
use crate::model::admin::UserRow;
use crate::model::Role;
use leptos::prelude::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <AdminFrame title="Users">
            <section class="mb-8 rounded-xl bg-white p-5 shadow">
                <h2 class="mb-3 text-lg font-semibold">"Create a user"</h2>
                <form method="post" action="/admin/users/new" class="flex flex-wrap items-end gap-3">
                    <label class="flex flex-col text-sm font-medium">"Username"
                        <input name="username" required autocomplete="off" class=INPUT/></label>
                    <label class="flex flex-col text-sm font-medium">"Password"
                        <input name="password" type="password" minlength="8" required
                            autocomplete="new-password" class=INPUT/></label>
                    <label class="flex flex-col text-sm font-medium">"Role"
                        <select name="role" class=INPUT>
                            <option value=Role::User.as_str()>"User"</option>
                            <option value=Role::Admin.as_str()>"Administrator"</option>
                        </select></label>
                    <button type="submit" class=BUTTON>"Create user"</button>
                </form>
            </section>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || users.get().map(|result| match result {
                    Ok(rows) => view! { <UserTable rows/> }.into_any(),
                    Err(_) => view! {
                        <p role="alert" class="text-red-800">"The users could not be loaded."</p>
                    }.into_any(),
                })}
            </Suspense>
        </AdminFrame>
    }
}

#[component]
fn UserTable(rows: Vec<UserRow>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-xl bg-white shadow">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Users"</caption>
                <thead class="bg-slate-100"><tr>
                    <th scope="col" class="p-3">"Username"</th>
                    <th scope="col" class="p-3">"Role"</th>
                    <th scope="col" class="p-3">"State"</th>
                    <th scope="col" class="p-3">"Created (UTC)"</th>
                    <th scope="col" class="p-3">"Actions"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <UserLine row/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UserLine(row: UserRow) -> impl IntoView {
    let role_action = format!("/admin/users/{}/role", row.id);
    let state_action = format!("/admin/users/{}/status", row.id);
    let (role_value, role_label) = match row.role {
        Role::Admin => (Role::User.as_str(), "Make user"),
        Role::User => (Role::Admin.as_str(), "Make administrator"),
    };
    let (state_value, state_label) = if row.disabled {
        ("enabled", "Enable")
    } else {
        ("disabled", "Disable")
    };
    view! {
        <tr data-user=row.username.clone() class="border-t border-slate-200">
            <td class="p-3 font-medium">{row.username.clone()}</td>
            <td class="p-3">{if row.role == Role::Admin { "Administrator" } else { "User" }}</td>
            <td class="p-3">{if row.disabled { "Disabled" } else { "Active" }}</td>
            <td class="p-3">{row.created_at.clone()}</td>
            <td class="flex gap-2 p-3">
                {if row.is_me {
                    view! { <span class="text-slate-600">"You"</span> }.into_any()
                } else {
                    view! {
                        <form method="post" action=role_action>
                            <input type="hidden" name="role" value=role_value/>
                            <button type="submit" class=SMALL_BUTTON>{role_label}</button>
                        </form>
                        <form method="post" action=state_action>
                            <input type="hidden" name="state" value=state_value/>
                            <button type="submit" class=SMALL_BUTTON>{state_label}</button>
                        </form>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
