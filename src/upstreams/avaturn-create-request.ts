import type { Profile } from '../config/types';
import type { AvaturnCreateRequest, ConversationEngine } from './types';

/** The Avaturn create body for a profile: optional settings are sent only when configured. */
export function avaturnCreateRequest(profile: Profile, engine: ConversationEngine): AvaturnCreateRequest {
  const request: AvaturnCreateRequest = {
    conversation_engine: engine,
    max_duration: profile.maxDurationSeconds,
    user_absent_timeout: profile.userAbsentTimeoutSeconds,
  };
  const { avatarId, background, renderModel } = profile.avatar;
  if (avatarId !== undefined) request.avatar_id = avatarId;
  if (background !== undefined) request.background = background;
  if (renderModel !== undefined) request.model = renderModel;
  return request;
}
