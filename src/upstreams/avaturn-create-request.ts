import type { Profile } from '../config/types';
import type { AvaturnCreateRequest } from './types';

/** The Avaturn create body for a profile, bound to a freshly minted engine credential. */
export function avaturnCreateRequest(profile: Profile, engine: AvaturnCreateRequest['conversation_engine']) {
  const request: AvaturnCreateRequest = {
    conversation_engine: engine,
    max_duration: profile.maxDurationSeconds,
    user_absent_timeout: profile.userAbsentTimeoutSeconds,
  };
  if (profile.avatar.avatarId !== undefined) request.avatar_id = profile.avatar.avatarId;
  if (profile.avatar.background !== undefined) request.background = profile.avatar.background;
  return request;
}
