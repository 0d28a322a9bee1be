import { handleAuthRequest } from '@/server/http/auth-request';

export { handleAuthRequest as GET, handleAuthRequest as POST };
