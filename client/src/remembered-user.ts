import { ZSessionUser, type SessionUser } from '../../shared/auth';

// The last signed-in user of this browser, so a reload while the server cannot be reached still
// shows the app (and the chat outbox) instead of an error. The server decides again once it
// answers: a session that ended meanwhile lands on the sign-in page, and this is forgotten.
const KEY = 'hubcast-user';

export function rememberUser(user: SessionUser | null) {
  if (user) localStorage.setItem(KEY, JSON.stringify(user));
  else localStorage.removeItem(KEY);
}

export function rememberedUser(): SessionUser | null {
  try {
    return ZSessionUser.parse(JSON.parse(localStorage.getItem(KEY) ?? 'null'));
  } catch {
    return null;
  }
}
