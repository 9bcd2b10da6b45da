import { ZUserSearchInput, ZUserSearchOutput } from '../../../shared/auth';
import { authedProcedure, router } from '../../trpc';
import { searchUsers } from './service';

export const usersRouter = router({
  search: authedProcedure
    .input(ZUserSearchInput)
    .output(ZUserSearchOutput)
    .query(({ ctx, input }) => searchUsers(ctx.app.db, ctx.user.id, input.query)),
});
