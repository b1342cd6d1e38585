# Refusals the portal sends to portalctl and other API clients, in the language the
# client asks for (gRPC metadata `x-portal-language` or `accept-language`).
error-token-missing = missing API token: send `authorization: Bearer <token>` (portalctl: --token or PORTALCTL_TOKEN)
error-token-unknown = API token not recognised on this portal: ask an administrator for one (`portalctl token issue LOGIN`)
error-user-dismissed = user `{ $login }` is dismissed; their tokens no longer work
error-storage = internal storage error; the portal operator can find it in the node's log
error-internal = internal error; the portal operator can find it in the node's log

## Rules of the portal (core). `{ $field }` is the name of a field, itself translated
## through the `field-*` messages below when it has one.
error-bad-address = { $field } `{ $value }` is not a valid address: use login@portal such as `jan@beta.test` (find people with `portalctl network search`), or `mailto:{ $value }` for someone who takes part by e-mail
error-login-required = { $field } is required (a login such as `anna`)
error-bad-login = { $field } `{ $value }` is not a valid login: use 2-{ $max } characters of a-z, 0-9, `.`, `_`, `-`, starting with a letter
error-bad-portal-id = portal id `{ $value }` is not valid: use a DNS-like name such as `alpha.test` (labels of a-z, 0-9, `-`)
error-required = { $field } is required
error-too-many-chars = { $field } is { $n } characters long; the limit is { $max }
error-not-single-line = { $field } must be a single line without control characters
error-too-many-bytes = { $field } is { $n } bytes long; the limit is { $max } bytes
error-control-chars = { $field } contains control characters
error-bad-email = { $field } `{ $value }` is not an e-mail address: expected `name@example.com`
error-email-required = { $field } is required (an e-mail address)
error-group-not-extranet = group { $group } ({ $name }) is not available in extranet, so external users cannot be invited into it; its owner can enable it with `portalctl group update { $group } --extranet`
error-invite-not-member = you are not a member of group { $group }, so you cannot invite into it
error-invite-owner-only = in group { $group } only the owner ({ $owner }) may invite people
error-group-owner-only = only the owner of group { $group } may change it
error-empty-update = the update names no field to change: give at least one
error-add-member-denied = only the owner or a moderator of group { $group } may add members
error-one-owner = a group has one owner; add the person as moderator or member
error-owner-role-fixed = { $login } owns group { $group }; the owner's role cannot change
error-invitation-used = this invitation has already been used; sign in with the token you got then, or ask for a new invitation
error-invitation-expired = this invitation has expired; ask the person who invited you to send it again
error-invitation-withdrawn = this invitation was withdrawn by the portal
error-invitation-accepted = invitation { $id } has been accepted; nothing to resend
error-invitation-revoked = invitation { $id } was revoked; invite the person again instead
error-invitation-not-pending = invitation { $id } is { $state }; only a pending one can be revoked
error-seats-full = the portal's plan allows { $seats } business users (employees and extranet users together) and { $used } are active; dismiss someone or raise the limit (`portalctl portal plan set --seats N`)
error-task-not-found = task { $task } not found
error-task-already = task { $task } is already { $status }
error-edit-denied = only the creator of task { $task } may edit it
error-comment-denied = only participants of task { $task } may comment on it
error-attach-denied = only the creator, responsible person or co-executors of task { $task } may attach files
error-status-path = the responsible person may not move task { $task } from { $from } to { $to }; ask the creator (they accept and reopen tasks)
error-status-denied = only the responsible person or the creator may change the status of task { $task }
error-too-many-participants = a task may have at most { $max } participants; this one has { $n }
error-edit-too-many-participants = a task may have at most { $max } participants; this edit makes { $n }
error-comment-required = comment text is required
error-too-many-files = task { $task } already has { $n } files, the most a task may hold
error-file-name-required = file name is required
error-file-name-path = file name `{ $name }` must not contain a path: give just the name
error-content-type = content type must be a MIME type such as `text/plain`
error-file-too-big = file `{ $name }` is { $size } bytes; the limit is { $max } bytes
error-title-required = title is required
error-deadline-range = deadline must be a time between 1970 and 9999

## Names of fields, as refusals name them.
field-login = login
field-display-name = display name
field-email = email
field-e-mail = e-mail
field-position = position
field-title = title
field-description = description
field-comment = comment
field-group-name = group name
field-group-description = group description
field-file-name = file name
field-invited-e-mail = invited e-mail
field-new-e-mail = new e-mail
field-login-to-remove = login to remove
field-responsible = responsible
field-accomplices = accomplices
field-observers = observers
field-participant = participant
field-address = address
field-name = name

## Rules of the portal node.
error-user-exists = user `{ $login }` already exists
error-extranet-no-browse = extranet users cannot browse the portal's employees; see the members of your groups with `portalctl group show ID`
error-user-not-found = user `{ $login }` not found on this portal
error-dismiss-self = you cannot dismiss yourself; ask another administrator
error-already-dismissed = user `{ $login }` is already dismissed
error-user-empty-update = the update names no field to change: give a name, a position or a language
error-already-employee = `{ $login }` is already an employee (intranet user)
error-is-dismissed = `{ $login }` is dismissed
error-already-extranet = `{ $login }` is already an extranet user
error-no-move-to-extranet = an intranet user cannot be moved to the extranet. Instead: dismiss `{ $login }` (`portalctl user dismiss { $login }`) and invite the person again as an external user under another e-mail address — or first give the dismissed account another address (`portalctl user set-email { $login } NEW-ADDRESS`) to reuse this one
error-email-used-by = e-mail { $email } is already used by `{ $login }`
error-email-used = e-mail { $email } is already used by another user of this portal; choose another address, or ask an administrator
error-edit-elsewhere = task { $task } is homed at portal { $portal }: only its creator, there, may edit it
error-file-not-found = file { $file } not found on task { $task }
error-extranet-no-email-people = extranet users cannot add people by e-mail address
error-extranet-no-remote = extranet users cannot involve people of other portals (R13)
error-extranet-pick-members = extranet users can pick only members of their groups; `{ $login }` is not one
error-dismissed-no-tasks = user `{ $login }` is dismissed and cannot take part in tasks
error-extranet-needs-group = `{ $login }` is an extranet user: they take part only in tasks of their groups; put the task in one of them (--group)
error-extranet-not-shared = `{ $login }` is an extranet user and cannot take part in a task shared with other portals (R13)
error-not-group-member = you are not a member of group { $group }; only members put tasks in it
error-login-taken = login `{ $login }` is taken on this portal; choose another or leave it empty
error-group-left-extranet = group { $group } is no longer available in extranet; ask the person who invited you
error-email-of-user = { $email } already belongs to a user of this portal, so it cannot be invited; to free the address, the person changes the e-mail of their Network account, or an administrator changes the account's e-mail (`portalctl user set-email LOGIN NEW-ADDRESS`)
error-email-of-dismissed = { $email } already belongs to a user (dismissed) of this portal, so it cannot be invited; to free the address, the person changes the e-mail of their Network account, or an administrator changes the account's e-mail (`portalctl user set-email LOGIN NEW-ADDRESS`)
error-email-invited = { $email } already has a pending invitation ({ $id }); resend or revoke it (`portalctl invite resend { $id }`)
error-invitation-not-found = invitation { $id } not found
error-invitation-link-unknown = invitation not found: the link may be mistyped, already used, or replaced by a newer invitation
error-group-not-found = group { $group } not found
error-extranet-no-groups = extranet users cannot create groups
error-too-many-invitations = one call may invite at most { $max } people and this one names { $n }: create the group with up to { $max }, then invite the rest from the group (`portalctl group invite ID --email ADDRESS`)
error-extranet-add-own = extranet users can add only people they share a group with; ask an employee to add others
error-dismissed-no-groups = user `{ $login }` is dismissed and cannot join groups
error-extranet-user-group = `{ $login }` is an extranet user and group { $group } is not available in extranet (R2); its owner can enable it with `portalctl group update { $group } --extranet`
error-no-portal = this data folder holds no portal: run `portald init` first
error-admins-only = only portal administrators may { $what }
error-employees-only = { $what } are for the portal's employees; extranet users see only their groups and tasks
error-link-unknown = this task link is not known here: check that it was copied whole from the e-mail
error-link-revoked = this task link was revoked; ask the task's creator to add you again
error-link-left = you no longer take part in this task, so its link no longer works
error-no-live-link = task { $task } has no live link for { $participant }
error-not-participant = you take no part in task { $task } (homed at { $portal }): only its participants change it
error-network-off = network communication is off on portal { $portal }: an administrator switches it on with `portalctl network enable` (R13)
error-network-not-yet = network communication on portal { $portal } was switched on at { $since }; tasks with people of other portals are possible from { $from } (R15)
error-portal-exists = this data folder already holds a portal
error-dismissed-no-token = user `{ $login }` is dismissed; a token would not work
error-id-required = { $field } is required (a number from 1)
error-status-required = status is required: one of new, in_progress, awaiting_control, completed, deferred
error-bad-role = role must be member or moderator
error-bad-invite-policy = invite policy must be owner, moderators or members
error-bad-report-by = report `by` must be responsible, status or group
error-bad-deadline = deadline must be a positive time in epoch milliseconds (0 for none)
error-group-and-clear = give either group_id or clear_group, not both
error-no-network-accounts = network communication is off on this portal, so it has no Network accounts to change

## What administrators' and employees' rules are about (`{ $what }` above).
what-add-users = add users
what-change-e-mail-addresses = change e-mail addresses
what-change-the-plan = change the plan
what-change-users = change users
what-dismiss-users = dismiss users
what-issue-api-tokens = issue API tokens
what-move-users-to-the-intranet = move users to the intranet
what-the-plan-and-its-seats = the plan and its seats
what-the-portal-s-network-settings = the portal's Network settings

## Fields of the node's requests.
field-task-id = task id
field-group-id = group id
field-invitation-id = invitation id
field-file-id = file id
error-bad-language = language `{ $value }` is not one the portal speaks: use en, pl or ru (empty: the portal's)

## What the inviter should know (R6).
notice-portal-only = in group { $group } ({ $name }) only the owner and moderators add members: { $email } will join the portal as an extranet user but not the group; ask the owner or a moderator to add them

## Refusals of the node's API handlers.
error-no-directory = this portal is not linked to a Network directory: set [directory] in portald.toml (endpoint, id, ca) and restart
error-no-directory-people = this portal is not linked to a Network directory, so it has no people of other portals: set [directory] in portald.toml and restart
error-admins-switch-network = only portal administrators switch network communication
error-extranet-no-search = extranet users cannot search the Network directory
error-search-network-off = network communication is off on this portal; an administrator switches it on with `portalctl network enable`
error-link-address-required = address is required: the login@portal that asked to join (see `portalctl network account requests`)
error-task-address-owner = a task address is shown only to its owner; an administrator may reset it (`portalctl mail address reset --login LOGIN`)
error-invite-token-required = token is required: the one from the invitation e-mail
error-admins-workers = only portal administrators see the background workers
error-admins-outbox = only portal administrators see and retry the replication outbox

## Tasks by e-mail (R18–R24); also the words of SMTP refusals.
error-extranet-no-task-address = `{ $login }` is an extranet user: only employees have a task address (R18)
error-no-such-address = no such address here: { $address } (a task address that was reset no longer works)
error-address-owner-gone = the owner of { $address } no longer works here
error-reply-from-other = this reply address belongs to another recipient; reply from the address the notification was sent to ({ $from } is not it)

## What a portal answers another portal's proposals with.
error-task-not-found-on = task { $task } not found on { $portal }

## Composing e-mail.
error-mail-compose = cannot compose the e-mail: { $reason }
error-proposal-refused = portal { $portal } refused: { $reason }
error-file-over-limit = file `{ $name }` is larger than the limit of { $max } bytes
error-upload-starts-with-file = an upload starts with one message naming the task and the file, then the file's bytes
error-file-needs-stream = file { $file } is { $size } bytes; files over { $max } bytes travel only streamed (UploadFile, DownloadFile): update the client
error-page-size-negative = page_size must not be negative (got { $size }); use 0 for the default page
error-page-token-invalid = the page token is not one this portal issued; send the next_page_token of the previous page unchanged, or none for the first page
error-page-token-other-request = the page token belongs to a request with other filters; repeat the filters of the first page, or start again without a token
